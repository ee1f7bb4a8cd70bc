// A PostgreSQL client that works on bytes, for tests that must see exactly
// what a proxy sends: every message, in order, with nothing hidden by a driver.

import net from 'node:net';

import { BackendFramer, type FramedMessage } from '../../src/pgwire/backend-framer.js';
import { PROTOCOL_VERSION_3_0 } from '../../src/pgwire/constants.js';
import { parseErrorFields } from '../../src/pgwire/backend-messages.js';
import { encodeCancelRequest, encodeStartupMessage } from '../../src/pgwire/startup.js';

export interface RawConnection {
  socket: net.Socket;
  /** Every byte received so far. */
  received(): Buffer;
  /** Resolves with the next message whose code is in `codes`, skipping others. */
  waitFor(codes: string): Promise<FramedMessage>;
  send(bytes: Buffer): void;
  close(): void;
}

export async function rawConnect(port: number): Promise<RawConnection> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });

  const chunks: Buffer[] = [];
  const framer = new BackendFramer({ maxMessageBytes: 64 * 1024 * 1024 });
  const queue: FramedMessage[] = [];
  let notify: (() => void) | undefined;
  let ended = false;

  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    framer.push(chunk);
    for (let message = framer.next(); message; message = framer.next()) {
      queue.push(message);
    }
    notify?.();
  });
  socket.on('close', () => {
    ended = true;
    notify?.();
  });
  socket.on('error', () => undefined);

  return {
    socket,
    received: () => Buffer.concat(chunks),
    send: (bytes) => socket.write(bytes),
    close: () => socket.destroy(),
    waitFor: async (codes) => {
      for (;;) {
        const index = queue.findIndex((message) => codes.includes(message.code));
        if (index >= 0) {
          const [message] = queue.splice(index, 1);
          return message;
        }
        if (ended) {
          throw new Error(`connection closed before a message of type ${codes}`);
        }
        await new Promise<void>((resolve) => (notify = resolve));
      }
    },
  };
}

export function startupMessage(parameters: Record<string, string>): Buffer {
  return encodeStartupMessage(PROTOCOL_VERSION_3_0, new Map(Object.entries(parameters)));
}

export function queryMessage(sql: string): Buffer {
  const text = Buffer.from(sql + '\0', 'utf8');
  const message = Buffer.alloc(5 + text.length);
  message.write('Q', 0, 'latin1');
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

export const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);

export function cancelMessage(processId: number, secretKey: Buffer): Buffer {
  return encodeCancelRequest(processId, secretKey);
}

/** SQLSTATE and message of an ErrorResponse. */
export function errorOf(message: FramedMessage): { code: string; message: string } {
  const fields = parseErrorFields(message.body);
  return { code: fields.get('C') ?? '', message: fields.get('M') ?? '' };
}
