// The agent's loopback listeners, one per connected resource, and the client
// connections each one carries. Closing a listener also ends its connections,
// so nothing the registry tracks outlives its socket.

import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { bindLoopback, type BindTarget } from './bind-listener.js';
import type { ListenerInfo } from './control-protocol.js';
import { runSession, type SessionDependencies } from './session.js';

interface ResourceListener {
  name: string;
  host: string;
  port: number;
  database?: string;
  server: Server;
  connections: Set<Socket>;
}

export interface ListenerSpec extends BindTarget {
  database?: string;
}

export class ListenerRegistry {
  private readonly listeners = new Map<string, ResourceListener>();
  private readonly session: Omit<SessionDependencies, 'logger'>;
  private readonly logger: Logger;

  constructor(session: Omit<SessionDependencies, 'logger'>, logger: Logger) {
    this.session = session;
    this.logger = logger;
  }

  get(name: string): ListenerInfo | undefined {
    const listener = this.listeners.get(name);
    return listener === undefined ? undefined : describe(listener);
  }

  list(): ListenerInfo[] {
    return [...this.listeners.values()].map(describe);
  }

  /** Binds a listener for the resource; throws ListenerError when the address cannot be bound. */
  async open(spec: ListenerSpec): Promise<ListenerInfo> {
    const connections = new Set<Socket>();
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(spec.resource, socket, connections));

    await bindLoopback(server, spec);
    const port = (server.address() as AddressInfo).port;
    const listener: ResourceListener = { name: spec.resource, host: spec.host, port, database: spec.database, server, connections };
    this.listeners.set(spec.resource, listener);

    server.on('error', (error) => this.logger.error({ resource: spec.resource, err: error.message }, 'listener failed'));
    this.logger.info({ resource: spec.resource, host: spec.host, port }, 'listening');
    return describe(listener);
  }

  /** Stops the listener of `name` and ends its connections; returns false when none was open. */
  async close(name: string): Promise<boolean> {
    const listener = this.listeners.get(name);
    if (listener === undefined) {
      return false;
    }
    this.listeners.delete(name);

    const closed = new Promise<void>((resolve) => listener.server.close(() => resolve()));
    for (const socket of listener.connections) {
      socket.destroy();
    }
    await closed;
    this.logger.info({ resource: name, host: listener.host, port: listener.port }, 'stopped listening');
    return true;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((name) => this.close(name)));
  }

  private accept(resource: string, socket: Socket, connections: Set<Socket>): void {
    const connectionId = randomBytes(6).toString('hex');
    const logger = this.logger.child({ connectionId, resource });

    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    void runSession(socket, resource, { ...this.session, logger });
  }
}

function describe(listener: ResourceListener): ListenerInfo {
  return {
    name: listener.name,
    host: listener.host,
    port: listener.port,
    database: listener.database,
    activeConnections: listener.connections.size,
  };
}
