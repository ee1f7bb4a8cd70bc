// The interface between the node and whatever issues Microsoft Entra access
// tokens for a managed identity. The node signs in to Azure Database for
// PostgreSQL with such a token as the password, so a token is a secret:
// nothing in this folder puts one in a message, a log or an error.

import { SdmError } from '../errors.js';

/** Scope of an Entra token that Azure Database for PostgreSQL accepts as a password. */
export const POSTGRES_SCOPE = 'https://ossrdbms-aad.database.windows.net/.default';

/** An access token and the time it stops being valid. */
export interface AccessToken {
  /** The bearer token itself. Never logged. */
  token: string;
  /** Expiry time in milliseconds since the Unix epoch. */
  expiresOnMs: number;
}

/** Issuer of access tokens for managed identities, looked up by client ID. */
export interface TokenSource {
  /**
   * Fetches a token for the managed identity with this client ID. Rejects
   * with an IdentityError, also when `signal` ends the wait early.
   */
  getToken(clientId: string, signal?: AbortSignal): Promise<AccessToken>;
}

/** Stable codes of an IdentityError. */
export type IdentityErrorCode =
  /** The token endpoint returned an error that fits no other code. */
  | 'token_service_failed'
  /** The token endpoint could not be reached, or its response could not be parsed. */
  | 'token_service_unreachable'
  /** No token arrived within the time limit. */
  | 'token_timeout'
  /** The caller gave up waiting (its AbortSignal fired). */
  | 'token_aborted'
  /** The token endpoint does not know a managed identity with this client ID. */
  | 'identity_not_found'
  /** The client ID is empty or not text. */
  | 'invalid_client_id'
  /** The token cache was closed before or while the request ran. */
  | 'token_cache_closed';

/**
 * A failure to get an access token for one managed identity. The message
 * names the client ID and the cause, and never contains a token.
 */
export class IdentityError extends SdmError {
  readonly clientId: string;

  constructor(code: IdentityErrorCode, clientId: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.clientId = clientId;
  }
}
