// The error a PostgreSQL client receives when the agent cannot give it a
// session: a FATAL ErrorResponse whose SQLSTATE a client or driver can act on, and a
// message naming the resource and the cause.

import { SdmError } from '../errors.js';
import {
  INSUFFICIENT_PRIVILEGE,
  INTERNAL_ERROR,
  INVALID_AUTHORIZATION,
  PROTOCOL_VIOLATION,
  SQLCLIENT_UNABLE_TO_ESTABLISH,
} from '../pgwire/constants.js';
import type { TunnelErrorCode } from '../tunnel/hello.js';

/** SQLSTATE 08004, sqlserver_rejected_establishment_of_sqlconnection. */
export const SQLSERVER_REJECTED_ESTABLISHMENT = '08004';

/** SQLSTATE 57P03, cannot_connect_now, which PostgreSQL sends while it shuts down. */
export const CANNOT_CONNECT_NOW = '57P03';

export interface ClientFailure {
  sqlstate: string;
  message: string;
  hint?: string;
}

const REPLY_SQLSTATES: Record<TunnelErrorCode, string> = {
  unauthenticated: INVALID_AUTHORIZATION,
  forbidden: INSUFFICIENT_PRIVILEGE,
  resource_not_found: SQLSERVER_REJECTED_ESTABLISHMENT,
  bad_hello: PROTOCOL_VIOLATION,
  unsupported_version: PROTOCOL_VIOLATION,
  shutting_down: CANNOT_CONNECT_NOW,
  internal: INTERNAL_ERROR,
};

const REPLY_HINTS: Partial<Record<TunnelErrorCode, string>> = {
  unauthenticated: 'Run sdm login to store a valid API token.',
  forbidden: 'Ask an admin to grant you this resource with sdm role grant.',
  resource_not_found: 'Run sdm status to list the resources you may reach.',
  unsupported_version: 'Use the same sdm version on this machine and on the node.',
  shutting_down: 'Connect again once the node is back.',
};

/** Maps a node's rejected hello to the error the client gets. */
export function rejectedHelloFailure(resource: string, code: TunnelErrorCode, message: string): ClientFailure {
  return {
    sqlstate: REPLY_SQLSTATES[code] ?? INTERNAL_ERROR,
    message: `sdm: the node rejected the connection to resource ${resource} (${code}): ${message}`,
    hint: REPLY_HINTS[code],
  };
}

/** Maps a failure before or while opening the tunnel, such as an unreachable node or a wrong fingerprint. */
export function tunnelFailure(resource: string, error: unknown): ClientFailure {
  if (error instanceof SdmError && error.code === 'not_logged_in') {
    return { sqlstate: INVALID_AUTHORIZATION, message: `sdm: cannot connect to resource ${resource}: ${error.message}`, hint: error.hint };
  }
  if (error instanceof SdmError) {
    return {
      sqlstate: SQLCLIENT_UNABLE_TO_ESTABLISH,
      message: `sdm: cannot open a tunnel for resource ${resource}: ${error.message}`,
      hint: error.hint,
    };
  }

  const text = error instanceof Error ? error.message : String(error);
  return { sqlstate: SQLCLIENT_UNABLE_TO_ESTABLISH, message: `sdm: cannot open a tunnel for resource ${resource}: ${text}` };
}
