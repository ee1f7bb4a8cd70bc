// Opens a connection that sends SSLRequest or GSSENCRequest packets before
// its StartupMessage. The server responds to each with a single byte that is
// not a framed message, so those bytes are read off the front of the stream
// before the rest is split into backend messages.

import net from 'node:net';

import { BackendFramer, type FramedMessage } from '../../src/pgwire/backend-framer.js';

export interface NegotiatedLogin {
  /** One response byte per negotiation packet, such as "NN". */
  responses: string;
  /** Backend messages up to and including the first ReadyForQuery or ErrorResponse. */
  messages: FramedMessage[];
  socket: net.Socket;
}

/** Bound on the whole exchange, so a proxy that never responds fails the test instead of stalling it. */
export const NEGOTIATION_TIMEOUT_MS = 10_000;

/** Builds an SSLRequest or GSSENCRequest: length 8, then the request code. */
export function negotiationPacket(code: number): Buffer {
  const packet = Buffer.alloc(8);
  packet.writeInt32BE(8, 0);
  packet.writeInt32BE(code, 4);
  return packet;
}

/** Sends `codes.length` negotiation packets and `startup` in one write and reads until ReadyForQuery or an error. */
export function negotiateAndLogin(port: number, codes: number[], startup: Buffer): Promise<NegotiatedLogin> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const framer = new BackendFramer();
    const messages: FramedMessage[] = [];
    let responses = '';

    const timer = setTimeout(() => fail(new Error(`no ReadyForQuery within ${NEGOTIATION_TIMEOUT_MS} ms; responses so far "${responses}"`)), NEGOTIATION_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };

    socket.on('data', (chunk: Buffer) => {
      const responseBytes = Math.min(codes.length - responses.length, chunk.length);
      responses += chunk.subarray(0, responseBytes).toString('latin1');
      framer.push(chunk.subarray(responseBytes));

      for (let message = framer.next(); message; message = framer.next()) {
        messages.push(message);
        if (message.code === 'Z' || message.code === 'E') {
          clearTimeout(timer);
          resolve({ responses, messages, socket });
          return;
        }
      }
    });
    socket.once('error', fail);
    socket.once('close', () => fail(new Error(`the connection closed before ReadyForQuery; responses "${responses}"`)));
    socket.write(Buffer.concat([...codes.map(negotiationPacket), startup]));
  });
}
