// Tokens from Azure managed identity through @azure/identity's
// ManagedIdentityCredential. Facts about @azure/identity 4.13.1 with
// @azure/msal-node 5.6.0 that shape this file, found by running it against
// the emulator in src/emulator:
//
// - The endpoint is read from AZURE_POD_IDENTITY_AUTHORITY_HOST (else IMDS at
//   169.254.169.254) on the first token request of the process. MSAL keeps
//   it, with the HTTP client of the credential that sent that request, in a
//   static field. So later changes to the variable have no effect, and
//   neither do the retry settings of credentials created later.
// - The request path is `/metadata/identity/oauth2/token/`, with a trailing
//   slash. A base URL that itself ends in a slash gives a doubled slash.
// - MSAL keeps one token cache for the whole process, keyed by client ID and
//   resource. It returns a cached token until 5 minutes before expiry, so a
//   new credential for the same client ID may not send any request.
// - Retries: a 404 or 410 is retried `retryOptions.maxRetries` times, 5 by
//   default, which took 18.6 s in one run against the emulator. A 5xx, 408
//   or 429, or a refused connection, is retried 3 times by default (5.0 s in
//   one run). A 400 is not retried.
// - The SDK sets no request timeout and does not pass `abortSignal` on to
//   MSAL, so a hanging endpoint keeps getToken() pending for ever. This
//   class therefore stops waiting when the caller's signal fires.
// - Failures arrive as CredentialUnavailableError whose `cause` is MSAL's
//   ServerError (`status`, `errorCode`, and `errorMessage` with a
//   "Description: ..." part) or ClientAuthError `network_error` (no
//   connection, or a response body that is not JSON).

import { raceAbort } from './abort.js';
import { IdentityError, POSTGRES_SCOPE, type AccessToken, type TokenSource } from './token-source.js';

/**
 * SDK retries per request. With two, a 5xx failed after 1.9 s in one run
 * against the emulator, well inside the token cache's default fetch timeout
 * of 15 s. A 404 waits about as long, because the SDK starts at 800 ms and
 * doubles the delay.
 */
export const DEFAULT_SDK_MAX_RETRIES = 2;

/** Maximum length of an SDK error description copied into an IdentityError message. */
const MAX_CAUSE_CHARS = 300;

/** The part of a credential this class uses; matches @azure/identity's TokenCredential. */
export interface CredentialLike {
  getToken(scope: string, options?: { abortSignal?: AbortSignal }): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

export interface ManagedIdentitySourceOptions {
  /** SDK retries per token request (see the notes at the top of this file). */
  maxRetries?: number;
  /** Creates the credential for a client ID; the default loads @azure/identity. */
  createCredential?: (clientId: string, maxRetries: number) => Promise<CredentialLike>;
}

/** A TokenSource that requests tokens from Azure managed identity, with one credential per client ID. */
export class ManagedIdentityTokenSource implements TokenSource {
  private readonly credentials = new Map<string, Promise<CredentialLike>>();
  private readonly maxRetries: number;
  private readonly createCredential: (clientId: string, maxRetries: number) => Promise<CredentialLike>;

  constructor(options: ManagedIdentitySourceOptions = {}) {
    this.maxRetries = options.maxRetries ?? DEFAULT_SDK_MAX_RETRIES;
    this.createCredential = options.createCredential ?? createAzureCredential;
  }

  /** Fetches a PostgreSQL token for the managed identity; rejects with an IdentityError. */
  async getToken(clientId: string, signal?: AbortSignal): Promise<AccessToken> {
    checkClientId(clientId);
    const credential = await this.credentialFor(clientId);
    if (signal?.aborted) {
      throw abortedError(clientId, signal);
    }

    try {
      const request = credential.getToken(POSTGRES_SCOPE, { abortSignal: signal });
      const result = await raceAbort(request, signal, () => abortedError(clientId, signal));
      return toAccessToken(clientId, result);
    } catch (error) {
      throw toIdentityError(clientId, error);
    }
  }

  private credentialFor(clientId: string): Promise<CredentialLike> {
    let credential = this.credentials.get(clientId);
    if (!credential) {
      credential = this.createCredential(clientId, this.maxRetries).catch((error: unknown) => {
        this.credentials.delete(clientId);
        throw new IdentityError('token_service_failed', clientId, `could not create a managed-identity credential for ${clientId}: ${describe(error)}`, {
          cause: error,
        });
      });
      this.credentials.set(clientId, credential);
    }
    return credential;
  }
}

/** Loads @azure/identity only now, so processes that never fetch a token never load it. */
async function createAzureCredential(clientId: string, maxRetries: number): Promise<CredentialLike> {
  const { ManagedIdentityCredential } = await import('@azure/identity');
  return new ManagedIdentityCredential({ clientId, retryOptions: { maxRetries } });
}

function checkClientId(clientId: string): void {
  if (typeof clientId !== 'string' || clientId.trim().length === 0) {
    throw new IdentityError('invalid_client_id', String(clientId), `managed identity client ID must be non-empty text; received ${JSON.stringify(clientId)}`, {
      hint: "set the resource's client ID to the managed identity's client ID (a GUID)",
    });
  }
}

function toAccessToken(clientId: string, result: { token: string; expiresOnTimestamp: number } | null): AccessToken {
  if (!result || typeof result.token !== 'string' || result.token.length === 0 || !Number.isFinite(result.expiresOnTimestamp)) {
    throw new IdentityError('token_service_failed', clientId, `managed-identity endpoint returned no token for client ID ${clientId}; expected a token and an expiry time`);
  }
  return { token: result.token, expiresOnMs: result.expiresOnTimestamp };
}

interface MsalErrorFields {
  name?: string;
  errorCode?: string;
  errorMessage?: string;
  status?: number;
}

/** Maps an SDK failure to an IdentityError by the MSAL error in its cause chain. */
export function toIdentityError(clientId: string, error: unknown): IdentityError {
  if (error instanceof IdentityError) {
    return error;
  }

  const msal = findMsalError(error);
  if (msal?.errorCode === 'network_error') {
    return new IdentityError('token_service_unreachable', clientId, `could not reach the managed-identity endpoint, or parse its response, for client ID ${clientId}`, {
      cause: error,
      hint: 'check that this machine has a managed identity (IMDS at 169.254.169.254), or that AZURE_POD_IDENTITY_AUTHORITY_HOST points at a running endpoint',
    });
  }

  if (msal?.status !== undefined) {
    return serverError(clientId, msal, error);
  }
  return new IdentityError('token_service_failed', clientId, `token request for managed identity ${clientId} failed: ${truncate(describe(error))}`, { cause: error });
}

function serverError(clientId: string, msal: MsalErrorFields, error: unknown): IdentityError {
  const description = extractDescription(msal.errorMessage ?? '');
  const response = `HTTP ${msal.status} ${msal.errorCode ?? 'error'}: ${truncate(description)}`;

  if (/identity not found/i.test(description)) {
    return new IdentityError('identity_not_found', clientId, `managed-identity endpoint has no identity with client ID ${clientId} (${response})`, {
      cause: error,
      hint: 'assign the user-assigned managed identity to this VM, or correct the client ID of the resource',
    });
  }
  return new IdentityError('token_service_failed', clientId, `managed-identity endpoint rejected the token request for client ID ${clientId} (${response})`, { cause: error });
}

function findMsalError(error: unknown): MsalErrorFields | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const fields = current as MsalErrorFields & { cause?: unknown };
    if (typeof fields.errorCode === 'string') {
      return fields;
    }
    current = fields.cause;
  }
  return undefined;
}

/** Takes the "Description: ..." part out of MSAL's formatted error message. */
function extractDescription(errorMessage: string): string {
  const match = /Description: (.*?) - Correlation ID/s.exec(errorMessage);
  return (match ? match[1] : errorMessage).trim();
}

function abortedError(clientId: string, signal: AbortSignal | undefined): IdentityError {
  const reason = signal?.reason;
  if (reason instanceof IdentityError) {
    return reason;
  }
  return new IdentityError('token_aborted', clientId, `stopped waiting for a token for managed identity ${clientId} because the caller gave up`);
}

function truncate(text: string): string {
  return text.length > MAX_CAUSE_CHARS ? `${text.slice(0, MAX_CAUSE_CHARS)}…` : text;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
