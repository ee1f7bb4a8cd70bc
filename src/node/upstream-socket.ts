import net from 'node:net';
import tls from 'node:tls';

import { BackendFramer } from '../pgwire/backend-framer.js';
import { clientSecureContext } from '../tunnel/client-context.js';
import { SessionError } from './session-error.js';
import { guardedLookup } from './loopback-policy.js';
import type { TlsMode } from '../store/types.js';

export const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;

/** Idle time before the first TCP keepalive probe on a database connection. */
export const KEEPALIVE_INITIAL_DELAY_MS = 30_000;

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const SSL_ACCEPTED = 0x53; // 'S'
const SSL_REFUSED = 0x4e; // 'N'

export interface UpstreamTarget {
  resourceName: string;
  hostname: string;
  port: number;
  tlsMode: TlsMode;
  caPem: string | null;
}

export interface BackendMessage {
  code: string;
  body: Buffer;
  raw: Buffer;
}

/**
 * Opens TCP to the database server and, unless the TLS mode is `disable`,
 * negotiates TLS the way libpq does: SSLRequest, a one-byte response, then a
 * handshake verified as the mode requires.
 */
export async function connectUpstream(target: UpstreamTarget, signal: AbortSignal): Promise<net.Socket> {
  const tcp = await connectTcp(target, signal);
  if (target.tlsMode === 'disable') {
    return tcp;
  }

  try {
    tcp.write(SSL_REQUEST);
    const answer = await readSslAnswer(tcp, target, signal);
    if (answer === SSL_REFUSED) {
      throw new SessionError(
        'upstream_tls_unavailable',
        '08001',
        `sdm: resource "${target.resourceName}": the server ${describe(target)} does not accept TLS, and the resource's TLS mode "${target.tlsMode}" requires it`,
      );
    }
    return await startTls(tcp, target, signal);
  } catch (error) {
    tcp.destroy();
    throw error;
  }
}

function describe(target: UpstreamTarget): string {
  return `${target.hostname}:${target.port}`;
}

function connectTcp(target: UpstreamTarget, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.hostname, port: target.port, lookup: guardedLookup, noDelay: true });
    socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);

    const fail = (cause: Error & { code?: string }) => {
      cleanup();
      socket.destroy();
      reject(
        new SessionError(
          'upstream_unreachable',
          '08001',
          `sdm: resource "${target.resourceName}": cannot reach the database server ${describe(target)}: ${cause.code ?? cause.message}`,
          { cause },
        ),
      );
    };
    const onAbort = () => fail(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    const onConnect = () => {
      cleanup();
      resolve(socket);
    };
    const cleanup = () => {
      socket.off('error', fail);
      socket.off('connect', onConnect);
      signal.removeEventListener('abort', onAbort);
    };

    socket.once('error', fail);
    socket.once('connect', onConnect);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function readSslAnswer(socket: net.Socket, target: UpstreamTarget, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      cleanup();
      socket.pause();
      const answer = chunk[0];
      if (chunk.length > 1 || (answer !== SSL_ACCEPTED && answer !== SSL_REFUSED)) {
        reject(protocolError(target, `unexpected response to SSLRequest (${chunk.length} bytes, first 0x${answer.toString(16)})`));
        return;
      }
      resolve(answer);
    };
    const onEnd = (error?: Error) => {
      cleanup();
      reject(closedError(target, 'while negotiating TLS', error));
    };
    const onAbort = () => {
      cleanup();
      reject(timeoutError(target, 'negotiating TLS'));
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onEnd);
      socket.off('close', onEnd);
      signal.removeEventListener('abort', onAbort);
    };

    socket.on('data', onData);
    socket.once('error', onEnd);
    socket.once('close', onEnd);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function startTls(tcp: net.Socket, target: UpstreamTarget, signal: AbortSignal): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket: tcp,
      servername: net.isIP(target.hostname) ? undefined : target.hostname,
      secureContext: clientSecureContext(target.caPem ? { caPem: target.caPem } : 'public CAs'),
      rejectUnauthorized: target.tlsMode !== 'require',
      checkServerIdentity: target.tlsMode === 'verify-full' ? tls.checkServerIdentity : () => undefined,
    });

    const onError = (cause: Error & { code?: string }) => {
      cleanup();
      secure.destroy();
      reject(
        new SessionError(
          'upstream_certificate_rejected',
          '08001',
          `sdm: resource "${target.resourceName}": TLS to the database server ${describe(target)} failed (TLS mode ${target.tlsMode}): ${cause.message}`,
          { cause },
        ),
      );
    };
    const onAbort = () => onError(new Error('the TLS handshake timed out'));
    const onSecure = () => {
      cleanup();
      resolve(secure);
    };
    const cleanup = () => {
      secure.off('error', onError);
      secure.off('secureConnect', onSecure);
      signal.removeEventListener('abort', onAbort);
    };

    secure.once('error', onError);
    secure.once('secureConnect', onSecure);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Reads whole backend messages from a socket during the login phase. Once
 * the caller has what it needs, `detach()` stops reading and hands back the
 * bytes already received past the last message, so raw relaying can begin.
 */
export class UpstreamMessageReader {
  private readonly framer = new BackendFramer();
  private waiter?: { resolve(message: BackendMessage): void; reject(error: Error): void };
  private failure?: Error;
  private pushedBack?: BackendMessage;

  constructor(
    private readonly socket: net.Socket,
    private readonly target: UpstreamTarget,
  ) {
    socket.on('data', this.onData);
    socket.on('error', this.onEnd);
    socket.on('close', this.onEnd);
    socket.resume();
  }

  next(): Promise<BackendMessage> {
    if (this.pushedBack) {
      const message = this.pushedBack;
      this.pushedBack = undefined;
      return Promise.resolve(message);
    }
    const message = this.framer.next();
    if (message) {
      return Promise.resolve(message);
    }
    if (this.failure) {
      return Promise.reject(this.failure);
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Puts one message back, so the next call to `next()` returns it again. */
  unshift(message: BackendMessage): void {
    this.pushedBack = message;
  }

  /** Stops reading and returns the unread bytes. */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.pause();
    return this.framer.rest();
  }

  private readonly onData = (chunk: Buffer) => {
    try {
      this.framer.push(chunk);
    } catch (error) {
      this.fail(protocolError(this.target, (error as Error).message));
      return;
    }
    this.deliver();
  };

  private readonly onEnd = (error?: Error | boolean) => {
    this.fail(closedError(this.target, 'during login', error instanceof Error ? error : undefined));
  };

  private deliver(): void {
    if (!this.waiter) {
      return;
    }
    let message: BackendMessage | undefined;
    try {
      message = this.framer.next();
    } catch (error) {
      this.fail(protocolError(this.target, (error as Error).message));
      return;
    }
    if (message) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve(message);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.failure);
  }
}

export function protocolError(target: UpstreamTarget, detail: string): SessionError {
  return new SessionError(
    'upstream_protocol_violation',
    '08P01',
    `sdm: resource "${target.resourceName}": the database server ${describe(target)} broke the protocol: ${detail}`,
  );
}

export function timeoutError(target: UpstreamTarget, step: string): SessionError {
  return new SessionError(
    'upstream_timeout',
    '08001',
    `sdm: resource "${target.resourceName}": timed out ${step} with the database server ${describe(target)}`,
  );
}

function closedError(target: UpstreamTarget, step: string, cause?: Error): SessionError {
  const reason = cause ? `: ${cause.message}` : '';
  return new SessionError(
    'upstream_closed',
    '08006',
    `sdm: resource "${target.resourceName}": the database server ${describe(target)} closed the connection ${step}${reason}`,
    { cause },
  );
}
