import { stat } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/control-client.js';
import type { RunningAgent } from '../../src/agent/agent.js';
import type { SdmPaths } from '../../src/agent/home.js';
import { loadState } from '../../src/agent/state-file.js';
import { CredentialStore } from '../../src/agent/credential-store.js';
import { SdmError } from '../../src/errors.js';
import { ExitCode } from '../../src/exit-codes.js';
import { RANDOM_PORT_MAX, RANDOM_PORT_MIN } from '../../src/agent/port-picker.js';
import { encodeStartupMessage } from '../../src/pgwire/startup.js';
import { PROTOCOL_VERSION_3_0 } from '../../src/pgwire/constants.js';
import { startFakeNode, type FakeNode } from './fake-node.js';
import { memoryLogger, pinNode, rawClient, runAgent, tempHome } from './agent-fixture.js';

let node: FakeNode;
let home: { paths: SdmPaths; remove(): Promise<void> };
let agent: RunningAgent | undefined;
let client: AgentClient;
const blockers: Server[] = [];

beforeEach(async () => {
  node = await startFakeNode();
  home = await tempHome();
  await pinNode(home.paths, node);
  agent = await runAgent(home.paths, memoryLogger().logger);
  client = new AgentClient(home.paths.socket);
});

afterEach(async () => {
  await agent?.close();
  for (const blocker of blockers.splice(0)) {
    await new Promise((resolve) => blocker.close(resolve));
  }
  await node.close();
  await home.remove();
});

function resource(name: string, portOverride: number | null = null, bindIp = '127.0.0.1') {
  return { resource: { name, bindIp, portOverride, database: 'orders' }, token: 'test-token' };
}

async function block(host: string, options: { ipv6Only?: boolean } = {}): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host, port: 0, ...options }, resolve));
  blockers.push(server);
  return (server.address() as AddressInfo).port;
}

async function connectError(request: ReturnType<typeof resource>): Promise<SdmError> {
  try {
    await client.connect(request);
  } catch (error) {
    return error as SdmError;
  }
  throw new Error('connect succeeded');
}

describe('listeners', () => {
  it('picks a port in range', async () => {
    const { listener } = await client.connect(resource('orders-db'));
    expect(listener.host).toBe('127.0.0.1');
    expect(listener.port).toBeGreaterThanOrEqual(RANDOM_PORT_MIN);
    expect(listener.port).toBeLessThanOrEqual(RANDOM_PORT_MAX);
  });

  it('uses the port override', async () => {
    const free = await block('127.0.0.1');
    await new Promise((resolve) => blockers.pop()!.close(resolve));
    const { listener } = await client.connect(resource('orders-db', free));
    expect(listener.port).toBe(free);
  });

  it('rejects a port taken on 127.0.0.1', async () => {
    const takenPort = await block('127.0.0.1');
    const error = await connectError(resource('orders-db', takenPort));
    expect(error.code).toBe('port_in_use');
    expect(error.exitCode).toBe(ExitCode.CONFLICT);
    expect(error.message).toContain('orders-db');
    expect(error.message).toContain(`127.0.0.1:${takenPort}`);
  });

  it('rejects a port taken on 0.0.0.0', async () => {
    const takenPort = await block('0.0.0.0');
    const error = await connectError(resource('orders-db', takenPort));
    expect(error.code).toBe('port_in_use');
    expect(error.message).toContain('orders-db');
    expect(error.message).toContain(`127.0.0.1:${takenPort}`);
  });

  it('rejects a port taken on ::', async () => {
    const takenPort = await block('::');
    const error = await connectError(resource('orders-db', takenPort));
    expect(error.code).toBe('port_in_use');
    expect(error.message).toContain(`127.0.0.1:${takenPort}`);
  });

  it('rejects a non-loopback bind address', async () => {
    const error = await connectError(resource('orders-db', null, '10.1.2.3'));
    expect(error.code).toBe('bad_request');
    expect(error.exitCode).toBe(ExitCode.USAGE);
    expect(error.message).toContain('10.1.2.3');
  });

  it('keeps the port across reconnects', async () => {
    const first = await client.connect(resource('orders-db'));
    await client.disconnect({ names: ['orders-db'] });
    const second = await client.connect(resource('orders-db'));
    expect(second.listener.port).toBe(first.listener.port);
  });

  it('forgets the port on request', async () => {
    let draws = 0;
    await agent!.close();
    agent = await runAgent(home.paths, memoryLogger().logger, () => (draws++ === 0 ? 0.1 : 0.2));
    const first = await client.connect(resource('orders-db'));
    await client.disconnect({ names: ['orders-db'], forgetPorts: true });
    const second = await client.connect(resource('orders-db'));
    expect(second.listener.port).not.toBe(first.listener.port);
  });

  it('listens again after a restart', async () => {
    const { listener } = await client.connect(resource('orders-db'));
    await agent!.close();
    const credentials = new CredentialStore({ paths: home.paths, env: {}, keyring: null, warn: () => undefined });
    await credentials.saveToken({ host: node.host, port: node.port }, 'stored-token');
    agent = await runAgent(home.paths, memoryLogger().logger);

    const { listeners } = await client.status();
    expect(listeners.map((entry) => [entry.name, entry.port])).toEqual([['orders-db', listener.port]]);

    node.greeting = Buffer.from('R');
    const pg = await rawClient('127.0.0.1', listener.port);
    pg.socket.write(encodeStartupMessage(PROTOCOL_VERSION_3_0, new Map([['user', 'alice']])));
    const data = await pg.waitFor(1);
    expect(data.toString()).toBe('R');
    expect(node.tunnels[0].hello.token).toBe('stored-token');
    pg.socket.destroy();
  });

  it('reports a taken remembered port after a restart', async () => {
    const { listener } = await client.connect(resource('orders-db'));
    await agent!.close();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(listener.port, '127.0.0.1', resolve));
    blockers.push(blocker);
    agent = await runAgent(home.paths, memoryLogger().logger);

    const { listeners } = await client.status();
    expect(listeners).toEqual([]);
    const error = await connectError(resource('orders-db'));
    expect(error.code).toBe('port_in_use');
    expect(error.hint).toContain('--forget-port');
  });

  it('disconnects and records it', async () => {
    await client.connect(resource('orders-db'));
    const { disconnected } = await client.disconnect({ all: true });
    expect(disconnected).toEqual(['orders-db']);

    const state = await loadState(home.paths);
    expect(state.resources['orders-db'].connected).toBe(false);
  });

  it('creates the control socket with mode 0600', async () => {
    const info = await stat(home.paths.socket);
    expect(info.isSocket()).toBe(true);
    expect(info.mode & 0o777).toBe(0o600);
  });

  it('creates SDM_HOME with mode 0700', async () => {
    const info = await stat(home.paths.home);
    expect(info.mode & 0o777).toBe(0o700);
  });

  it('refuses a second agent', async () => {
    const error = await runAgent(home.paths, memoryLogger().logger).catch((caught: SdmError) => caught);
    expect((error as SdmError).code).toBe('agent_running');
  });

  it('stops on a shutdown request', async () => {
    await client.shutdown();
    await agent!.closed;
    expect(await client.isRunning()).toBe(false);
  });
});
