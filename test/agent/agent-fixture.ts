// Shared setup of the agent tests: a private SDM_HOME in a temp directory,
// a config.json that pins the fake node, a logger that keeps every line in
// memory, and a PostgreSQL client reduced to raw sockets.

import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';
import { saveConfig } from '../../src/agent/client-config.js';
import { sdmPaths, type SdmPaths } from '../../src/agent/home.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import type { FakeNode } from './fake-node.js';

export interface MemoryLog {
  logger: Logger;
  text(): string;
}

export function memoryLogger(): MemoryLog {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: createLogger({ name: 'agent-test', destination, level: 'debug' }), text: () => chunks.join('') };
}

export async function tempHome(): Promise<{ paths: SdmPaths; remove(): Promise<void> }> {
  const home = await mkdtemp(join(tmpdir(), 'sdm-agent-'));
  return { paths: sdmPaths(home), remove: () => rm(home, { recursive: true, force: true }) };
}

export async function pinNode(paths: SdmPaths, node: Pick<FakeNode, 'host' | 'port' | 'fingerprint'>): Promise<void> {
  await saveConfig(paths, { gateway: { host: node.host, port: node.port }, fingerprint: node.fingerprint });
}

export function runAgent(paths: SdmPaths, logger: Logger, random?: () => number): Promise<RunningAgent> {
  return startAgent({ paths, env: {}, logger, keyring: null, random });
}

/** A raw client socket that collects what it receives. */
export interface RawClient {
  socket: Socket;
  received(): Buffer;
  /** Resolves once at least `count` bytes arrived in total. */
  waitFor(count: number): Promise<Buffer>;
  closed: Promise<void>;
}

export async function rawClient(host: string, port: number): Promise<RawClient> {
  const socket = createConnection({ host, port });
  let data = Buffer.alloc(0);
  const waiters: Array<{ count: number; resolve(data: Buffer): void }> = [];

  socket.on('data', (chunk: Buffer) => {
    data = Buffer.concat([data, chunk]);
    for (const waiter of [...waiters]) {
      if (data.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(data);
      }
    }
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });

  return {
    socket,
    received: () => data,
    waitFor: (count) => (data.length >= count ? Promise.resolve(data) : new Promise((resolve) => waiters.push({ count, resolve }))),
    closed,
  };
}

/** Builds an SSLRequest or GSSENCRequest packet: length 8 and the request code. */
export function requestPacket(code: number): Buffer {
  const packet = Buffer.alloc(8);
  packet.writeInt32BE(8, 0);
  packet.writeInt32BE(code, 4);
  return packet;
}

/** Splits an ErrorResponse into its type byte and fields. */
export function readErrorResponse(message: Buffer): { type: string; fields: Map<string, string> } {
  const fields = new Map<string, string>();
  let offset = 5;
  while (offset < message.length && message[offset] !== 0) {
    const key = String.fromCharCode(message[offset]);
    const end = message.indexOf(0, offset + 1);
    fields.set(key, message.subarray(offset + 1, end).toString('utf8'));
    offset = end + 1;
  }
  return { type: String.fromCharCode(message[0]), fields };
}
