// Reading the node's one reply frame at the start of a tunnel. The bytes
// after the frame already belong to the PostgreSQL session.

import type { Duplex } from 'node:stream';
import { SdmError } from '../errors.js';
import { decodeFrame, parseReply, type TunnelReply } from '../tunnel/hello.js';

/** Time the agent waits for the node's reply to its hello. */
export const TUNNEL_REPLY_TIMEOUT_MS = 15_000;

export interface ReplyWithRest {
  reply: TunnelReply;
  /** Bytes the node sent after the reply frame. */
  rest: Buffer;
}

/** Reads one reply frame from `tunnel`; the stream is paused again when this settles. */
export function readTunnelReply(tunnel: Duplex, timeoutMs: number = TUNNEL_REPLY_TIMEOUT_MS): Promise<ReplyWithRest> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);

    const finish = (error: Error | undefined, result?: ReplyWithRest): void => {
      clearTimeout(timer);
      tunnel.off('data', onData);
      tunnel.off('end', onEnd);
      tunnel.off('close', onEnd);
      tunnel.off('error', onError);
      tunnel.pause();
      if (error !== undefined) {
        reject(error);
      } else {
        resolve(result!);
      }
    };

    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      const frame = decodeFrame(buffer);
      if (frame.state === 'incomplete') {
        return;
      }
      if (frame.state === 'invalid') {
        finish(replyError(`the node sent an invalid reply frame: ${frame.reason}`));
        return;
      }

      const reply = parseReply(frame.value);
      if (typeof reply === 'string') {
        finish(replyError(`the node sent an invalid reply: ${reply}`));
        return;
      }
      finish(undefined, { reply, rest: frame.rest });
    };
    const onEnd = (): void => finish(replyError('the node closed the tunnel before it replied to the hello'));
    const onError = (error: Error): void => finish(replyError(`the tunnel failed before the node replied: ${error.message}`));
    const timer = setTimeout(() => finish(replyError(`the node did not reply to the hello within ${timeoutMs} ms`)), timeoutMs);

    tunnel.on('data', onData);
    tunnel.once('end', onEnd);
    tunnel.once('close', onEnd);
    tunnel.once('error', onError);
    tunnel.resume();
  });
}

function replyError(message: string): SdmError {
  return new SdmError('tunnel_reply_failed', message, { hint: 'check the node log; the node and this client may run different sdm versions' });
}
