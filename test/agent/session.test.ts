import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/control-client.js';
import type { RunningAgent } from '../../src/agent/agent.js';
import type { SdmPaths } from '../../src/agent/home.js';
import { encodeStartupMessage } from '../../src/pgwire/startup.js';
import { GSSENC_REQUEST_CODE, PROTOCOL_VERSION_3_0, SSL_REQUEST_CODE } from '../../src/pgwire/constants.js';
import type { TunnelErrorCode } from '../../src/tunnel/hello.js';
import { startFakeNode, type FakeNode } from './fake-node.js';
import { memoryLogger, pinNode, rawClient, readErrorResponse, requestPacket, runAgent, tempHome, type MemoryLog } from './agent-fixture.js';

const TOKEN = 'tok-7f3a9c2e51d84b6a-secret';
const STARTUP = encodeStartupMessage(PROTOCOL_VERSION_3_0, new Map([['user', 'alice'], ['database', 'orders']]));

let node: FakeNode;
let home: { paths: SdmPaths; remove(): Promise<void> };
let log: MemoryLog;
let agent: RunningAgent;
let port: number;

beforeEach(async () => {
  node = await startFakeNode();
  home = await tempHome();
  log = memoryLogger();
  await pinNode(home.paths, node);
  agent = await runAgent(home.paths, log.logger);
  const { listener } = await new AgentClient(home.paths.socket).connect({
    resource: { name: 'orders-db', bindIp: '127.0.0.1', portOverride: null },
    token: TOKEN,
  });
  port = listener.port;
});

afterEach(async () => {
  await agent.close();
  await node.close();
  await home.remove();
});

describe('session', () => {
  it('declines SSLRequest with N', async () => {
    const client = await rawClient('127.0.0.1', port);
    client.socket.write(requestPacket(SSL_REQUEST_CODE));
    const data = await client.waitFor(1);
    expect(data.toString('latin1')).toBe('N');
    client.socket.destroy();
  });

  it('declines GSSENCRequest with N', async () => {
    const client = await rawClient('127.0.0.1', port);
    client.socket.write(requestPacket(GSSENC_REQUEST_CODE));
    const data = await client.waitFor(1);
    expect(data.toString('latin1')).toBe('N');
    client.socket.destroy();
  });

  it('sends hello and startup bytes', async () => {
    const client = await rawClient('127.0.0.1', port);
    const tunnel = node.nextTunnel(STARTUP.length);
    client.socket.write(Buffer.concat([requestPacket(SSL_REQUEST_CODE), STARTUP]));

    const received = await tunnel;
    expect(received.hello.token).toBe(TOKEN);
    expect(received.hello.resource).toBe('orders-db');
    expect(received.hello.version).toBe(1);
    expect(received.hello.clientAddress).toBe('127.0.0.1');
    expect(received.after.equals(STARTUP)).toBe(true);
    client.socket.destroy();
  });

  it('passes bytes both ways', async () => {
    node.greeting = Buffer.from('R-from-server');
    const client = await rawClient('127.0.0.1', port);
    const tunnel = node.nextTunnel(STARTUP.length + 5);
    client.socket.write(STARTUP);

    const greeting = await client.waitFor(node.greeting.length);
    expect(greeting.toString()).toBe('R-from-server');

    client.socket.write('query');
    const received = await tunnel;
    expect(received.after.subarray(STARTUP.length).toString()).toBe('query');

    const large = Buffer.alloc(1024 * 1024, 7);
    received.socket.write(large);
    const all = await client.waitFor(node.greeting.length + large.length);
    expect(all.length).toBe(node.greeting.length + large.length);
    client.socket.destroy();
  });

  it('closes the client when the node closes', async () => {
    const client = await rawClient('127.0.0.1', port);
    const tunnel = node.nextTunnel(STARTUP.length);
    client.socket.write(STARTUP);
    (await tunnel).socket.end();

    await client.closed;
    expect(client.socket.destroyed).toBe(true);
  });

  it('closes the tunnel when the client closes', async () => {
    const client = await rawClient('127.0.0.1', port);
    const tunnel = await (async () => {
      const next = node.nextTunnel(STARTUP.length);
      client.socket.write(STARTUP);
      return next;
    })();
    const tunnelClosed = new Promise<void>((resolve) => tunnel.socket.once('close', () => resolve()));
    client.socket.end();

    await tunnelClosed;
    expect(tunnel.socket.destroyed).toBe(true);
  });

  const rejections: Array<[TunnelErrorCode, string]> = [
    ['unauthenticated', '28000'],
    ['forbidden', '42501'],
    ['resource_not_found', '08004'],
    ['unsupported_version', '08P01'],
    ['shutting_down', '57P03'],
    ['internal', 'XX000'],
  ];

  it.each(rejections)('rejected hello %s gives SQLSTATE %s', async (code, sqlstate) => {
    node.reply = { ok: false, code, message: 'refused by test' };
    const client = await rawClient('127.0.0.1', port);
    client.socket.write(STARTUP);
    await client.closed;

    const error = readErrorResponse(client.received());
    expect(error.type).toBe('E');
    expect(error.fields.get('S')).toBe('FATAL');
    expect(error.fields.get('C')).toBe(sqlstate);
    expect(error.fields.get('M')).toContain('orders-db');
    expect(error.fields.get('M')).toContain('refused by test');
  });

  it('unreachable node gives 08001', async () => {
    await node.close();
    const client = await rawClient('127.0.0.1', port);
    client.socket.write(STARTUP);
    await client.closed;

    const error = readErrorResponse(client.received());
    expect(error.fields.get('C')).toBe('08001');
    expect(error.fields.get('M')).toContain('orders-db');
    expect(error.fields.get('M')).toContain(`127.0.0.1:${node.port}`);
  });

  it('fingerprint mismatch gives 08001', async () => {
    await pinNode(home.paths, { ...node, fingerprint: 'AB:'.repeat(31) + 'AB' });
    const client = await rawClient('127.0.0.1', port);
    client.socket.write(STARTUP);
    await client.closed;

    const error = readErrorResponse(client.received());
    expect(error.fields.get('C')).toBe('08001');
    expect(error.fields.get('M')).toContain('orders-db');
    expect(error.fields.get('M')).toContain(node.fingerprint);
  });

  it('invalid startup gives 08P01', async () => {
    const client = await rawClient('127.0.0.1', port);
    const bogus = Buffer.alloc(8);
    bogus.writeInt32BE(8, 0);
    bogus.writeInt32BE(12345, 4);
    client.socket.write(bogus);
    await client.closed;

    const error = readErrorResponse(client.received());
    expect(error.fields.get('C')).toBe('08P01');
    expect(node.tunnels).toHaveLength(0);
  });

  it('forgets closed connections', async () => {
    node.greeting = Buffer.from('R');
    const agentClient = new AgentClient(home.paths.socket);
    const client = await rawClient('127.0.0.1', port);
    client.socket.write(STARTUP);
    await client.waitFor(1);
    expect((await agentClient.status()).listeners[0].activeConnections).toBe(1);

    client.socket.destroy();
    let active = 1;
    for (let attempt = 0; attempt < 100 && active > 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      active = (await agentClient.status()).listeners[0].activeConnections;
    }
    expect(active).toBe(0);
  });

  it('keeps the token out of the log', async () => {
    node.greeting = Buffer.from('R');
    const client = await rawClient('127.0.0.1', port);
    client.socket.write(STARTUP);
    await client.waitFor(1);
    client.socket.destroy();
    await agent.close();

    expect(log.text()).toContain('tunnel open');
    expect(log.text()).toContain('connectionId');
    expect(log.text()).not.toContain(TOKEN);
  });
});
