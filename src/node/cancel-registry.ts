import crypto from 'node:crypto';

import { encodeCancelRequest } from '../pgwire/startup.js';
import { connectUpstream, type UpstreamTarget } from './upstream-socket.js';
import type { BackendKey } from './upstream-login.js';

/** Time allowed to deliver one CancelRequest to a database server. */
export const CANCEL_TIMEOUT_MS = 5_000;

const MIN_SECRET_BYTES = 4;

export interface CancelTarget {
  target: UpstreamTarget;
  serverKey: BackendKey;
  userEmail: string;
  sessionId: string;
}

/**
 * Maps the backend keys the node hands to clients onto the keys of the real
 * server backends. A client never sees a server's key, so a CancelRequest
 * can only reach a backend through a session the node opened, and only for
 * the user who owns that session.
 */
export class CancelRegistry {
  private readonly targets = new Map<string, CancelTarget>();

  /** Registers a session's server key and returns the key to give the client. */
  register(entry: CancelTarget): BackendKey {
    const secretLength = Math.max(MIN_SECRET_BYTES, entry.serverKey.secretKey.length);
    for (;;) {
      const nodeKey = { processId: crypto.randomInt(1, 2 ** 31 - 1), secretKey: crypto.randomBytes(secretLength) };
      const id = keyId(nodeKey);
      if (!this.targets.has(id)) {
        this.targets.set(id, entry);
        return nodeKey;
      }
    }
  }

  unregister(nodeKey: BackendKey): void {
    this.targets.delete(keyId(nodeKey));
  }

  lookup(processId: number, secretKey: Buffer): CancelTarget | undefined {
    return this.targets.get(keyId({ processId, secretKey }));
  }

  get size(): number {
    return this.targets.size;
  }
}

function keyId(key: BackendKey): string {
  return `${key.processId}:${key.secretKey.toString('hex')}`;
}

/** Sends a CancelRequest to the server backend behind a registered key, as libpq does. */
export async function sendCancel(entry: CancelTarget): Promise<void> {
  const signal = AbortSignal.timeout(CANCEL_TIMEOUT_MS);
  const socket = await connectUpstream(entry.target, signal);
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
    socket.end(encodeCancelRequest(entry.serverKey.processId, entry.serverKey.secretKey));
    setTimeout(() => {
      socket.destroy();
      resolve();
    }, CANCEL_TIMEOUT_MS).unref();
  });
}
