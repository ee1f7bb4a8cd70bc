// TLS between the agent or CLI and a node. The node presents a certificate
// that is usually self-signed. The client trusts it by its pinned SHA-256
// fingerprint or through a CA certificate, and rejects the connection when
// it has neither.

import { isIP } from 'node:net';
import tls from 'node:tls';
import { ValidationError } from '../errors.js';
import { fingerprintOfDer, normalizeFingerprint } from './fingerprint.js';
import { clientSecureContext, TLS_MIN_VERSION } from './client-context.js';
import { formatAddress, NodeUnreachableError, TrustError, type UnreachableReason } from './tls-errors.js';

export { formatAddress, NodeUnreachableError, TrustError } from './tls-errors.js';
export type { TrustErrorCode, UnreachableReason } from './tls-errors.js';

export { TLS_MIN_VERSION } from './client-context.js';

/** Time allowed for the TCP connection and the TLS handshake together. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Idle time before the OS sends the first TCP keepalive probe, so that a dead peer is eventually detected. */
export const KEEPALIVE_INITIAL_DELAY_MS = 30_000;

/** Certificate verification failures that OpenSSL and Node report as error codes. */
const CERTIFICATE_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export interface NodeServerTlsOptions {
  certPem: string;
  keyPem: string;
  /** ALPN protocol names the node serves, such as TUNNEL_ALPN and ADMIN_ALPN. */
  alpnProtocols: string[];
}

/** Builds the options of the node's TLS listener. */
export function nodeServerTlsOptions(options: NodeServerTlsOptions): tls.TlsOptions {
  return {
    cert: options.certPem,
    key: options.keyPem,
    minVersion: TLS_MIN_VERSION,
    ALPNProtocols: options.alpnProtocols,
  };
}

export interface ConnectToNodeOptions {
  host: string;
  port: number;
  /** ALPN protocol to request. The connection fails unless the node selects it. */
  alpn: string;
  /** Pinned SHA-256 fingerprint of the node's certificate, in any form normalizeFingerprint accepts. */
  fingerprint?: string;
  /** CA certificates (PEM) that must sign the node's certificate, whose names must then include `host`. */
  caPem?: string;
  connectTimeoutMs?: number;
}

/**
 * Opens a TLS connection to a node and checks its certificate. With a
 * fingerprint, only a certificate with exactly that fingerprint is accepted.
 * With a CA, the chain and the host name are verified. With both, both checks
 * apply. Rejects with TrustError or NodeUnreachableError; once it resolves,
 * error handling on the socket is the caller's.
 */
export async function connectToNode(options: ConnectToNodeOptions): Promise<tls.TLSSocket> {
  const pinned = pinnedFingerprintOf(options);
  const target = { host: options.host, port: options.port };

  const socket = tls.connect({
    ...target,
    servername: serverNameFor(options.host),
    ALPNProtocols: [options.alpn],
    secureContext: clientSecureContext(options.caPem === undefined ? 'pinned only' : { caPem: options.caPem }),
    rejectUnauthorized: options.caPem !== undefined,
  });
  socket.setKeepAlive(true, KEEPALIVE_INITIAL_DELAY_MS);
  socket.setNoDelay(true);

  await waitForHandshake(socket, target, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);

  try {
    if (pinned !== undefined) {
      checkPinnedFingerprint(socket, target, pinned);
    }
    checkAlpn(socket, target, options.alpn);
  } catch (error) {
    discard(socket);
    throw error;
  }
  return socket;
}

/**
 * Connects without trusting anything and returns the fingerprint of the
 * certificate the node presents, for the ssh-style prompt of a first login.
 * No ALPN protocol is requested, so the node opens neither a tunnel nor an
 * admin API request.
 */
export async function fetchNodeFingerprint(host: string, port: number, timeoutMs: number = DEFAULT_CONNECT_TIMEOUT_MS): Promise<string> {
  const target = { host, port };
  const socket = tls.connect({ ...target, servername: serverNameFor(host), secureContext: clientSecureContext('pinned only'), rejectUnauthorized: false });

  try {
    await waitForHandshake(socket, target, timeoutMs);
    return fingerprintOfDer(socket.getPeerCertificate().raw);
  } finally {
    discard(socket);
  }
}

/** Returns the normalised pinned fingerprint, or undefined when only a CA is trusted. */
function pinnedFingerprintOf(options: ConnectToNodeOptions): string | undefined {
  if (options.fingerprint === undefined && options.caPem === undefined) {
    throw new TrustError('trust_not_configured', `no pinned fingerprint and no CA certificate for the node at ${formatAddress(options.host, options.port)}; rejecting the connection to an unverified node`, {
      hint: `Run sdm login --gateway ${formatAddress(options.host, options.port)} with --fingerprint SHA256 or --ca-file PEM.`,
    });
  }
  if (options.fingerprint === undefined) {
    return undefined;
  }

  const pinned = normalizeFingerprint(options.fingerprint);
  if (pinned === undefined) {
    throw new ValidationError('fingerprint', `fingerprint "${options.fingerprint}" is not a SHA-256 fingerprint; expected 32 hex pairs such as AB:CD:…, as sdm gateway init prints`);
  }
  return pinned;
}

/** SNI carries host names only: RFC 6066 forbids IP addresses in it. */
function serverNameFor(host: string): string | undefined {
  return isIP(host) === 0 ? host : undefined;
}

function checkPinnedFingerprint(socket: tls.TLSSocket, target: { host: string; port: number }, pinned: string): void {
  const presented = fingerprintOfDer(socket.getPeerCertificate().raw);
  if (presented === pinned) {
    return;
  }

  const address = formatAddress(target.host, target.port);
  throw new TrustError(
    'fingerprint_mismatch',
    `the certificate of the node at ${address} has fingerprint ${presented}, but the pinned fingerprint is ${pinned}. ` +
      `If the node was re-initialised, run sdm login --gateway ${address} again and compare the fingerprint it shows with the one sdm gateway init printed; otherwise someone may be intercepting the connection.`,
  );
}

function checkAlpn(socket: tls.TLSSocket, target: { host: string; port: number }, alpn: string): void {
  if (socket.alpnProtocol === alpn) {
    return;
  }

  const selected = socket.alpnProtocol === false || socket.alpnProtocol === null ? 'none' : `"${socket.alpnProtocol}"`;
  throw new NodeUnreachableError({
    ...target,
    reason: 'alpn',
    detail: `the server selected ALPN protocol ${selected}, expected "${alpn}"; it is not an sdm node, or runs an incompatible version`,
  });
}

/** Resolves on `secureConnect`. On an error or after `timeoutMs`, destroys the socket and rejects. */
function waitForHandshake(socket: tls.TLSSocket, target: { host: string; port: number }, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      discard(socket);
      reject(new NodeUnreachableError({ ...target, reason: 'timed_out', detail: `the TCP connection and TLS handshake timed out after ${timeoutMs} ms` }));
    }, timeoutMs);

    const onSecureConnect = () => {
      finish();
      resolve();
    };
    const onError = (error: NodeJS.ErrnoException) => {
      finish();
      discard(socket);
      reject(connectionError(error, target));
    };
    const finish = () => {
      clearTimeout(timer);
      socket.off('secureConnect', onSecureConnect);
      socket.off('error', onError);
    };

    socket.once('secureConnect', onSecureConnect);
    socket.once('error', onError);
  });
}

/** Destroys a socket nobody will use, ignoring errors it may still emit. */
function discard(socket: tls.TLSSocket): void {
  socket.on('error', () => undefined);
  socket.destroy();
}

/** Maps a socket error during connect and handshake to TrustError or NodeUnreachableError. */
export function connectionError(error: NodeJS.ErrnoException, target: { host: string; port: number }): TrustError | NodeUnreachableError {
  const code = error.code ?? '';
  if (CERTIFICATE_ERROR_CODES.has(code)) {
    return new TrustError('certificate_untrusted', `the certificate of the node at ${formatAddress(target.host, target.port)} failed verification against the trusted CA: ${error.message} (${code})`, {
      hint: 'Check that the CA file is the one that signed the node certificate and that the gateway address is a name or IP address listed in the certificate.',
      cause: error,
    });
  }

  const { reason, detail } = describeNetworkError(error, target.host);
  return new NodeUnreachableError({ ...target, reason, detail, cause: error });
}

function describeNetworkError(error: NodeJS.ErrnoException, host: string): { reason: UnreachableReason; detail: string } {
  switch (error.code) {
    case 'ECONNREFUSED':
      return { reason: 'refused', detail: 'connection refused; nothing listens on that port' };
    case 'ETIMEDOUT':
      return { reason: 'timed_out', detail: 'the TCP connection timed out' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return { reason: 'dns', detail: `DNS lookup of "${host}" failed (${error.code})` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { reason: 'no_route', detail: `no route to the host (${error.code})` };
    case 'ECONNRESET':
    case 'EPIPE':
      return { reason: 'reset', detail: `the connection was closed during the TLS handshake (${error.code}); the port may not serve TLS` };
  }

  if (error.code?.startsWith('ERR_SSL_') === true) {
    return { reason: 'tls_handshake', detail: `the TLS handshake failed: ${error.message}` };
  }
  return { reason: 'other', detail: `${error.message}${error.code === undefined ? '' : ` (${error.code})`}` };
}
