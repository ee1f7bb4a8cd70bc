// The agent: a long-running process on the user's machine that keeps one
// loopback listener per connected resource and takes requests from the CLI
// over its control socket. It remembers its listeners in state.json, so a
// restarted agent listens again where it did.

import { rm, writeFile } from 'node:fs/promises';
import type { TLSSocket } from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import type { ConnectToNodeOptions } from '../tunnel/tls.js';
import { formatHostPort } from './address.js';
import { assertLoopback, ListenerError } from './bind-listener.js';
import { NotLoggedInError, WatchedConfig } from './client-config.js';
import type { ConnectRequest, ControlRequest, DisconnectRequest, ListenerInfo, NodeGetRequest, NodeGetResult } from './control-protocol.js';
import { listenControlSocket, type ControlServer } from './control-server.js';
import { CredentialStore, type KeyringOpener } from './credential-store.js';
import { checkSocketPath, ensureHome, PRIVATE_FILE_MODE, type SdmPaths } from './home.js';
import { ListenerRegistry } from './listener-registry.js';
import { MAX_RANDOM_PORT_ATTEMPTS, pickRandomPort } from './port-picker.js';
import type { TunnelTarget } from './session.js';
import { emptyState, loadState, saveState, type AgentState } from './state-file.js';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

export interface AgentOptions {
  paths: SdmPaths;
  env: Record<string, string | undefined>;
  logger: Logger;
  /** Keyring used to read the token when no connect request carried one; null disables it. */
  keyring?: KeyringOpener | null;
  /** Opens the TLS connection to the node; defaults to connectToNode from src/tunnel/tls.ts. */
  connectToNode?: (options: ConnectToNodeOptions) => Promise<TLSSocket>;
  /** Source of random numbers in [0, 1) for port picks. */
  random?: () => number;
  startupTimeoutMs?: number;
  replyTimeoutMs?: number;
}

export interface RunningAgent {
  socketPath: string;
  /** Resolves once the agent has stopped, after close() or a shutdown request. */
  closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * V8 flag that keeps the young generation at its initial 1 MiB semi-spaces.
 * V8 otherwise grows them to 16 MiB each under traffic and rarely shrinks
 * them, which left the agent about 28 MiB larger (`npm run bench`, Node 20.20).
 * NOTE: an internal V8 flag. Unlike --max-semi-space-size, it applies at run time.
 */
const YOUNG_GENERATION_FLAG = '--semi-space-growth-factor=1';

/** Starts the agent: restores remembered listeners, then serves the control socket. */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  checkSocketPath(options.paths);
  setFlagsFromString(YOUNG_GENERATION_FLAG);
  await ensureHome(options.paths.home);
  const agent = new Agent(options);
  await agent.start();
  return agent;
}

class Agent implements RunningAgent {
  readonly socketPath: string;
  readonly closed: Promise<void>;
  private readonly options: AgentOptions;
  private readonly logger: Logger;
  private readonly registry: ListenerRegistry;
  private readonly credentials: CredentialStore;
  private readonly config: WatchedConfig;
  private state: AgentState = emptyState();
  /** Token from the last connect request, with the node address it was given for. */
  private token: { gateway: string; value: string } | undefined;
  private control: ControlServer | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private markClosed: () => void = () => undefined;

  constructor(options: AgentOptions) {
    this.options = options;
    this.logger = options.logger;
    this.socketPath = options.paths.socket;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.config = new WatchedConfig(options.paths);
    this.credentials = new CredentialStore({ paths: options.paths, env: options.env, keyring: options.keyring, warn: () => undefined });
    this.registry = new ListenerRegistry(
      {
        resolveTarget: () => this.resolveTarget(),
        connectToNode: options.connectToNode ?? defaultConnectToNode,
        startupTimeoutMs: options.startupTimeoutMs,
        replyTimeoutMs: options.replyTimeoutMs,
      },
      options.logger,
    );
  }

  /** Listens on the control socket, but handles requests only once the pid file is written and listeners are restored. */
  async start(): Promise<void> {
    this.state = await loadState(this.options.paths);
    let release = (): void => undefined;
    this.queue = new Promise<void>((resolve) => (release = resolve));
    // A node-get changes nothing the queue protects, and may wait on the network.
    this.control = await listenControlSocket(
      this.socketPath,
      (request) => (request.op === 'node-get' ? this.nodeGet(request) : this.serialize(() => this.handle(request))),
      this.logger,
    );

    try {
      await writeFile(this.options.paths.pid, `${process.pid}\n`, { mode: PRIVATE_FILE_MODE });
      await this.restore();
    } catch (error) {
      await this.close();
      throw error;
    } finally {
      release();
    }
    this.logger.info({ socket: this.socketPath }, 'agent started');
  }

  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    await this.registry.closeAll();
    await this.control?.close();
    await rm(this.options.paths.pid, { force: true });
    this.logger.info('agent stopped');
    this.markClosed();
  }

  /** Runs control requests one at a time, so state.json always matches the listeners. */
  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async handle(request: ControlRequest): Promise<unknown> {
    switch (request.op) {
      case 'ping':
        return { pid: process.pid };
      case 'status':
        return { listeners: this.registry.list() };
      case 'connect':
        return { listener: await this.connect(request) };
      case 'disconnect':
        return { disconnected: await this.disconnect(request) };
      case 'node-get':
        return this.nodeGet(request);
      case 'shutdown':
        setImmediate(() => void this.close());
        return {};
    }
  }

  /** Sends a GET to the node with the CLI's token and returns the status and body as they came. */
  private async nodeGet(request: NodeGetRequest): Promise<NodeGetResult> {
    const config = await this.config.require();
    const { NodeClient } = await import('../cli/node-client.js');
    const target = { ...config.gateway, fingerprint: config.fingerprint, caPem: config.caPem };
    const response = await new NodeClient(target, request.token, this.options.connectToNode ?? defaultConnectToNode).send('GET', request.path);
    this.logger.info({ path: request.path, status: response.status }, 'node request for the CLI');
    return { status: response.status, text: response.text };
  }

  private async connect(request: ConnectRequest): Promise<ListenerInfo> {
    const { name, bindIp, portOverride, database } = request.resource;
    assertLoopback(name, bindIp);
    if (request.token !== undefined && request.token.length > 0) {
      const config = await this.config.require();
      this.token = { gateway: formatHostPort(config.gateway), value: request.token };
    }

    const current = this.registry.get(name);
    if (current !== undefined && current.host === bindIp && (portOverride === null || portOverride === current.port)) {
      return current;
    }
    await this.registry.close(name);

    const listener = await this.bindResource(name, bindIp, portOverride, database);
    this.state.resources[name] = { name, bindIp, port: listener.port, connected: true, database };
    await saveState(this.options.paths, this.state);
    return listener;
  }

  private async bindResource(name: string, bindIp: string, portOverride: number | null, database?: string): Promise<ListenerInfo> {
    const spec = { resource: name, host: bindIp, database };
    if (portOverride !== null) {
      return this.registry.open({ ...spec, port: portOverride, portSource: 'override' });
    }

    const remembered = this.state.resources[name];
    if (remembered !== undefined) {
      return this.registry.open({ ...spec, port: remembered.port, portSource: 'remembered' });
    }

    for (let attempt = 1; attempt <= MAX_RANDOM_PORT_ATTEMPTS; attempt += 1) {
      const port = pickRandomPort(this.options.random);
      try {
        return await this.registry.open({ ...spec, port, portSource: 'random' });
      } catch (error) {
        if (!(error instanceof ListenerError && error.code === 'port_in_use')) {
          throw error;
        }
      }
    }
    throw new SdmError('no_free_port', `found no free port on ${bindIp} for resource ${name} after ${MAX_RANDOM_PORT_ATTEMPTS} random picks`, {
      exitCode: ExitCode.CONFLICT,
      hint: `ask an admin to set a fixed port with sdm resource update ${name} --port-override N`,
    });
  }

  private async disconnect(request: DisconnectRequest): Promise<string[]> {
    const names = request.all === true ? this.registry.list().map((listener) => listener.name) : (request.names ?? []);
    const disconnected: string[] = [];

    for (const name of names) {
      if (await this.registry.close(name)) {
        disconnected.push(name);
      }
      const remembered = this.state.resources[name];
      if (remembered !== undefined) {
        remembered.connected = false;
      }
      if (request.forgetPorts === true) {
        delete this.state.resources[name];
      }
    }
    if (request.forgetToken === true) {
      this.token = undefined;
    }

    await saveState(this.options.paths, this.state);
    return disconnected;
  }

  /** Listens again for every resource that was connected when the last agent stopped. */
  private async restore(): Promise<void> {
    const connected = Object.values(this.state.resources).filter((entry) => entry.connected);

    for (const entry of connected) {
      try {
        await this.registry.open({ resource: entry.name, host: entry.bindIp, port: entry.port, portSource: 'remembered', database: entry.database });
      } catch (error) {
        entry.connected = false;
        this.logger.error({ resource: entry.name, err: (error as Error).message }, 'cannot listen again on the remembered address');
      }
    }
    if (connected.some((entry) => !entry.connected)) {
      await saveState(this.options.paths, this.state);
    }
  }

  private async resolveTarget(): Promise<TunnelTarget> {
    const config = await this.config.require();
    const remembered = this.token?.gateway === formatHostPort(config.gateway) ? this.token.value : undefined;
    const token = remembered ?? (await this.credentials.getToken(config.gateway))?.token;
    if (token === undefined) {
      throw new NotLoggedInError();
    }
    return { node: { host: config.gateway.host, port: config.gateway.port, fingerprint: config.fingerprint, caPem: config.caPem }, token };
  }
}

async function defaultConnectToNode(options: ConnectToNodeOptions): Promise<TLSSocket> {
  const { connectToNode } = await import('../tunnel/tls.js');
  return connectToNode(options);
}
