import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';

import { afterEach, describe, expect, it } from 'vitest';

import { connectTarget, isLoopbackHost, sendTarget } from './loopback-guard.js';

const METADATA_ADDRESS = '169.254.169.254';
const PRIVATE_ADDRESS = '10.0.0.1';

const cleanups: Array<() => void> = [];

afterEach(() => {
  while (cleanups.length > 0) {
    cleanups.pop()?.();
  }
});

describe('loopback guard over TCP', () => {
  it('blocks 10.0.0.1 before connecting', () => {
    const socket = new net.Socket();
    cleanups.push(() => socket.destroy());

    expect(() => socket.connect(80, PRIVATE_ADDRESS)).toThrow(PRIVATE_ADDRESS);
    expect(socket.connecting).toBe(false);
  });

  it('blocks the metadata address before connecting', () => {
    const socket = new net.Socket();
    cleanups.push(() => socket.destroy());

    expect(() => socket.connect({ host: METADATA_ADDRESS, port: 80 })).toThrow(METADATA_ADDRESS);
    expect(socket.connecting).toBe(false);
  });

  it('blocks net.connect', () => {
    expect(() => net.connect({ host: METADATA_ADDRESS, port: 80 })).toThrow(/loopback guard: TCP connection to '169\.254\.169\.254' blocked/);
  });

  it('blocks tls.connect', () => {
    expect(() => tls.connect({ host: PRIVATE_ADDRESS, port: 443 })).toThrow(PRIVATE_ADDRESS);
  });

  it('blocks http.get', () => {
    expect(() => http.get(`http://${METADATA_ADDRESS}/metadata/identity/oauth2/token`)).toThrow(METADATA_ADDRESS);
  });

  it('blocks fetch', async () => {
    const failure = await fetch(`http://${METADATA_ADDRESS}/metadata/identity/oauth2/token`).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(TypeError);
    expect(String((failure as TypeError).cause)).toContain(METADATA_ADDRESS);
  });

  it('blocks host names', () => {
    expect(() => net.connect({ host: 'example.com', port: 80 })).toThrow('example.com');
  });

  it('allows 127.0.0.1', async () => {
    const server = net.createServer((socket) => socket.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => server.close());

    const client = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
    cleanups.push(() => client.destroy());
    await once(client, 'connect');

    expect(client.remoteAddress).toBe('127.0.0.1');
  });

  it('allows Unix socket paths', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'sdm-guard-'));
    const path = join(directory, 'test.sock');
    const server = net.createServer((socket) => socket.end());
    server.listen(path);
    await once(server, 'listening');
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
    cleanups.push(() => server.close());

    const client = net.connect(path);
    cleanups.push(() => client.destroy());
    await once(client, 'connect');

    expect(client.readyState).toBe('open');
  });
});

describe('loopback guard over UDP', () => {
  it('blocks send to the metadata address', () => {
    const socket = dgram.createSocket('udp4');
    cleanups.push(() => socket.close());

    expect(() => socket.send(Buffer.from('x'), 80, METADATA_ADDRESS)).toThrow(METADATA_ADDRESS);
    // An unbound socket that never sent anything has no local address yet.
    expect(() => socket.address()).toThrow();
  });

  it('blocks send with offset and length', () => {
    const socket = dgram.createSocket('udp4');
    cleanups.push(() => socket.close());

    expect(() => socket.send(Buffer.from('xy'), 0, 2, 53, PRIVATE_ADDRESS)).toThrow(PRIVATE_ADDRESS);
  });

  it('blocks connect', () => {
    const socket = dgram.createSocket('udp4');
    cleanups.push(() => socket.close());

    expect(() => socket.connect(53, PRIVATE_ADDRESS)).toThrow(PRIVATE_ADDRESS);
  });

  it('allows send to 127.0.0.1', async () => {
    const receiver = dgram.createSocket('udp4');
    receiver.bind(0, '127.0.0.1');
    await once(receiver, 'listening');
    cleanups.push(() => receiver.close());
    const sender = dgram.createSocket('udp4');
    cleanups.push(() => sender.close());

    const received = once(receiver, 'message');
    sender.send(Buffer.from('ping'), receiver.address().port, '127.0.0.1');
    const [message] = (await received) as [Buffer];

    expect(message.toString()).toBe('ping');
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.12.0.9', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['10.0.0.1', false],
    ['169.254.169.254', false],
    ['128.0.0.1', false],
    ['::ffff:169.254.169.254', false],
    ['fe80::1', false],
    ['::', false],
    ['0.0.0.0', false],
    ['example.com', false],
    ['localhost.example.com', false],
  ])('%s is %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('connectTarget', () => {
  it.each([
    [[80, '10.0.0.1'], '10.0.0.1'],
    [[80], 'localhost'],
    [['80', '10.0.0.1'], '10.0.0.1'],
    [[{ port: 80, host: '10.0.0.1' }], '10.0.0.1'],
    [[{ port: 80 }], 'localhost'],
    [[[{ port: 80, host: '10.0.0.1' }, null]], '10.0.0.1'],
    [['/tmp/some.sock'], undefined],
    [[{ path: '/tmp/some.sock' }], undefined],
  ])('%j targets %s', (args, expected) => {
    expect(connectTarget(args)).toBe(expected);
  });
});

describe('sendTarget', () => {
  const message = Buffer.from('x');
  const callback = () => undefined;

  it.each([
    [[message, 53, '10.0.0.1'], '10.0.0.1'],
    [[message, 53, '10.0.0.1', callback], '10.0.0.1'],
    [[message, 0, 1, 53, '10.0.0.1'], '10.0.0.1'],
    [[message, 0, 1, 53, '10.0.0.1', callback], '10.0.0.1'],
    [[message, 53], 'localhost'],
    [[message, 53, callback], 'localhost'],
    [[message, 0, 1, 53], 'localhost'],
    [[message, 0, 1, 53, callback], 'localhost'],
  ])('%j goes to %s', (args, expected) => {
    expect(sendTarget(args)).toBe(expected);
  });
});

describe('identity endpoint default', () => {
  it('points the SDK at loopback', () => {
    const host = new URL(process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST ?? '').hostname;

    expect(isLoopbackHost(host)).toBe(true);
  });
});
