import crypto from 'node:crypto';
import type tls from 'node:tls';

import type { Store } from '../store/types.js';
import {
  decodeFrame,
  encodeFrame,
  HELLO_TIMEOUT_MS,
  parseHello,
  TUNNEL_PROTOCOL_VERSION,
  type TunnelErrorCode,
  type TunnelHello,
} from '../tunnel/hello.js';
import type { AccessControl } from './access.js';
import { runPgSession, type SessionDependencies } from './pg-session.js';

export interface TunnelDependencies extends SessionDependencies {
  store: Store;
  access: AccessControl;
  /** True once the node has begun to shut down. */
  isShuttingDown(): boolean;
}

class HelloRejection extends Error {
  constructor(
    readonly code: TunnelErrorCode,
    message: string,
    /** The user behind the token, once known, for the connection log. */
    readonly userEmail: string | null = null,
  ) {
    super(message);
  }
}

/**
 * Serves one tunnel: reads the agent's hello, checks the API token and the
 * user's access to the resource, replies, and hands the connection to the
 * PostgreSQL session. A rejected hello gets a reply with a stable code, is
 * logged as a refused connection, and is closed.
 */
export async function handleTunnel(socket: tls.TLSSocket, deps: TunnelDependencies): Promise<void> {
  const id = crypto.randomUUID();
  const log = deps.logger.child({ connectionId: id });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 30_000);
  socket.on('error', (error) => log.debug({ err: error.message }, 'tunnel socket error'));

  let hello: TunnelHello | undefined;
  try {
    const read = await readHello(socket);
    hello = read.hello;
    const { user, resource } = await admit(read.hello, deps);
    socket.write(encodeFrame({ ok: true, sessionId: id }));
    const clientAddress = read.hello.clientAddress ?? socket.remoteAddress ?? null;
    await runPgSession(socket, { id, user, resource, clientAddress, initial: read.rest }, deps);
  } catch (error) {
    const rejection = error instanceof HelloRejection ? error : new HelloRejection('internal', `internal error: ${(error as Error).message}`);
    log.info({ code: rejection.code, resource: hello?.resource, err: rejection.message }, 'tunnel rejected');
    refuse(socket, rejection);
    recordRefusal(id, hello, socket, rejection, deps);
  }
}

async function admit(hello: TunnelHello, deps: TunnelDependencies) {
  if (deps.isShuttingDown()) {
    throw new HelloRejection('shutting_down', 'the node is shutting down; try again in a moment');
  }
  if (hello.version !== TUNNEL_PROTOCOL_VERSION) {
    throw new HelloRejection(
      'unsupported_version',
      `tunnel protocol version ${hello.version} is not supported; this node speaks version ${TUNNEL_PROTOCOL_VERSION}; upgrade sdm`,
    );
  }

  const user = await deps.access.userForToken(hello.token);
  if (!user) {
    throw new HelloRejection('unauthenticated', 'the API token was not accepted by the node; run `sdm login` again');
  }

  const resource = await deps.store.getResource(hello.resource);
  if (!resource || !(await deps.access.mayReach(user, resource))) {
    throw new HelloRejection(
      'resource_not_found',
      `resource "${hello.resource}" does not exist or your roles grant no access to it`,
      user.email,
    );
  }
  return { user, resource };
}

function readHello(socket: tls.TLSSocket): Promise<{ hello: TunnelHello; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffer: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new HelloRejection('bad_hello', `no hello within ${HELLO_TIMEOUT_MS} ms`)), HELLO_TIMEOUT_MS);

    const finish = (error?: Error, result?: { hello: TunnelHello; rest: Buffer }) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      if (error) {
        reject(error);
      } else {
        resolve(result!);
      }
    };
    const onEnd = () => finish(new HelloRejection('bad_hello', 'the connection closed before a complete hello'));
    const onData = (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      const frame = decodeFrame(buffer);
      if (frame.state === 'incomplete') {
        return;
      }
      if (frame.state === 'invalid') {
        finish(new HelloRejection('bad_hello', `invalid hello: ${frame.reason}`));
        return;
      }
      const hello = parseHello(frame.value);
      if (typeof hello === 'string') {
        finish(new HelloRejection('bad_hello', `invalid hello: ${hello}`));
        return;
      }
      finish(undefined, { hello, rest: frame.rest });
    };

    socket.on('data', onData);
    socket.once('end', onEnd);
  });
}

function refuse(socket: tls.TLSSocket, rejection: HelloRejection): void {
  if (socket.writable) {
    socket.end(encodeFrame({ ok: false, code: rejection.code, message: rejection.message }));
  }
  setTimeout(() => socket.destroy(), 1_000).unref();
}

function recordRefusal(id: string, hello: TunnelHello | undefined, socket: tls.TLSSocket, rejection: HelloRejection, deps: TunnelDependencies): void {
  const time = new Date().toISOString();
  deps.audit.connection({
    id,
    startedAt: time,
    endedAt: time,
    user: rejection.userEmail,
    resource: hello?.resource ?? '',
    database: null,
    clientAddress: hello?.clientAddress ?? socket.remoteAddress ?? null,
    outcome: 'refused',
    error: `${rejection.code}: ${rejection.message}`,
    bytesToServer: 0,
    bytesToClient: 0,
  });
}
