import type net from 'node:net';

import { readStartupPacket, type StartupPacket } from '../pgwire/startup.js';
import { sslRefused } from '../pgwire/backend-messages.js';
import { SdmError } from '../errors.js';

/** Time a client gets to send its StartupMessage or CancelRequest. */
export const STARTUP_TIMEOUT_MS = 10_000;

export type FinalStartupPacket = Extract<StartupPacket, { kind: 'startup' | 'cancel' }>;

export interface ClientStartup {
  packet: FinalStartupPacket;
  /** The raw bytes of that packet, to forward unchanged. */
  raw: Buffer;
  /** Bytes the client sent after it. */
  rest: Buffer;
}

/** Rejection of a client's opening bytes: malformed, too large, or not sent in time. */
export class StartupError extends SdmError {
  constructor(message: string) {
    super('bad_startup', message);
  }
}

/**
 * Reads a client's opening packets. SSLRequest and GSSENCRequest, in any
 * order and number, get the single byte 'N' (the connection is already inside
 * a TLS tunnel, or on loopback), and reading goes on until a StartupMessage or
 * CancelRequest arrives. Input is bounded in size by the startup reader and
 * in time by `timeoutMs`.
 */
export function readClientStartup(socket: net.Socket, initial: Buffer, timeoutMs = STARTUP_TIMEOUT_MS): Promise<ClientStartup> {
  return new Promise((resolve, reject) => {
    let buffer = initial;

    const timer = setTimeout(() => finish(new StartupError(`no StartupMessage within ${timeoutMs} ms`)), timeoutMs);
    const finish = (error: Error | undefined, result?: ClientStartup) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      socket.pause();
      if (error) {
        reject(error);
      } else {
        resolve(result!);
      }
    };
    const onEnd = () => finish(new StartupError('the client closed the connection before its StartupMessage'));
    const onData = (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      process();
    };
    const process = () => {
      for (;;) {
        const result = readStartupPacket(buffer);
        if (result.state === 'incomplete') {
          return;
        }
        if (result.state === 'invalid') {
          finish(new StartupError(`invalid startup packet: ${result.reason}`));
          return;
        }
        const raw = buffer.subarray(0, result.length);
        buffer = buffer.subarray(result.length);
        const packet = result.packet;
        if (packet.kind === 'ssl' || packet.kind === 'gssenc') {
          socket.write(sslRefused());
          continue;
        }
        finish(undefined, { packet, raw, rest: buffer });
        return;
      }
    };

    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
    socket.resume();
    process();
  });
}
