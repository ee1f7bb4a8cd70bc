// Errors of a TLS connection from the client to a node: either the node
// cannot be reached at all, or it was reached but its certificate is not
// the one the client trusts.

import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

export type TrustErrorCode = 'fingerprint_mismatch' | 'certificate_untrusted' | 'trust_not_configured';

/** The node's certificate does not match the pinned fingerprint or the trusted CA, or nothing is trusted yet. */
export class TrustError extends SdmError {
  declare readonly code: TrustErrorCode;

  constructor(code: TrustErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, { exitCode: ExitCode.UNTRUSTED, ...options });
  }
}

/** Cause of a connection to a node that failed before the TLS handshake completed. */
export type UnreachableReason = 'refused' | 'timed_out' | 'dns' | 'no_route' | 'reset' | 'tls_handshake' | 'alpn' | 'other';

/** The node could not be reached, or it did not complete a TLS handshake with the expected ALPN protocol. */
export class NodeUnreachableError extends SdmError {
  readonly host: string;
  readonly port: number;
  readonly reason: UnreachableReason;

  constructor(options: { host: string; port: number; reason: UnreachableReason; detail: string; cause?: unknown }) {
    const address = formatAddress(options.host, options.port);
    super('node_unreachable', `cannot reach the sdm node at ${address}: ${options.detail}`, {
      exitCode: ExitCode.UNREACHABLE,
      hint: `Check that the node is running (sdm gateway start) and that ${address} is its address; run sdm login --gateway HOST:PORT to change it.`,
      cause: options.cause,
    });
    this.host = options.host;
    this.port = options.port;
    this.reason = options.reason;
  }
}

/** Formats `host:port`, with brackets around an IPv6 address. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
