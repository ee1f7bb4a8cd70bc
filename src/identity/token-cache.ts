// A TokenSource in front of another one that keeps one token per client ID.
// Many PostgreSQL sessions for the same resource start at once, so callers
// share a single fetch in flight, and a token is renewed by a timer ahead
// of its expiry so that sign-ins rarely wait for the token endpoint.

import { raceAbort } from './abort.js';
import { IdentityError, type AccessToken, type TokenSource } from './token-source.js';

/** Default time before expiry at which a token is renewed in the background. */
export const DEFAULT_RENEW_BEFORE_MS = 5 * 60_000;

/** Default time limit on one fetch from the source, after which the fetch fails. */
export const DEFAULT_FETCH_TIMEOUT_MS = 15_000;

/** Wait before the next background renewal after one failed or brought no later token. */
export const RENEW_RETRY_DELAY_MS = 10_000;

/** Maximum delay that setTimeout accepts, because Node fires a longer one after 1 ms. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface TokenCacheOptions {
  /** Current time in milliseconds since the Unix epoch; `Date.now` by default. */
  clock?: () => number;
  /** Renew this long before expiry, or at half the remaining lifetime when that is later. */
  renewBeforeMs?: number;
  /** Limit on one fetch from the source, in milliseconds. */
  fetchTimeoutMs?: number;
  /** Receives each failed background renewal; the current token stays in use until it expires. */
  onRenewError?(clientId: string, error: Error): void;
}

interface CacheEntry {
  token?: AccessToken;
  /** Time from which the token is due for renewal. */
  renewAtMs: number;
  fetch?: Promise<AccessToken>;
  abort?: AbortController;
  timer?: NodeJS.Timeout;
}

/**
 * Computes how long to wait before renewing a token that expires at
 * `expiresOnMs`: until `renewBeforeMs` before expiry, or until half the
 * remaining lifetime has passed when that is later, so a short-lived token
 * is not renewed as soon as it arrives. The result is never negative and
 * never above MAX_TIMER_DELAY_MS.
 */
export function renewalDelayMs(nowMs: number, expiresOnMs: number, renewBeforeMs: number): number {
  const delayMs = renewalDueMs(nowMs, expiresOnMs, renewBeforeMs) - nowMs;
  return Math.min(Math.max(delayMs, 0), MAX_TIMER_DELAY_MS);
}

/** Returns the time at which renewal is due, by the rule of `renewalDelayMs` but without its cap. */
function renewalDueMs(nowMs: number, expiresOnMs: number, renewBeforeMs: number): number {
  const remainingMs = expiresOnMs - nowMs;
  if (!(remainingMs > 0)) {
    return nowMs;
  }

  const windowMs = Math.min(Math.max(renewBeforeMs, 0), remainingMs / 2);
  return nowMs + Math.floor(remainingMs - windowMs);
}

/** Caches tokens per client ID in front of a slower TokenSource, renewing them ahead of expiry. */
export class TokenCache implements TokenSource {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly clock: () => number;
  private readonly renewBeforeMs: number;
  private readonly fetchTimeoutMs: number;
  private readonly onRenewError?: (clientId: string, error: Error) => void;
  private closed = false;

  constructor(
    private readonly source: TokenSource,
    options: TokenCacheOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.renewBeforeMs = options.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    this.onRenewError = options.onRenewError;
  }

  /**
   * Returns the cached token while it is valid, starting a background
   * renewal once it is due. Without a valid token, waits for the shared
   * fetch; `signal` ends this caller's wait but not the fetch.
   */
  async getToken(clientId: string, signal?: AbortSignal): Promise<AccessToken> {
    if (this.closed) {
      throw closedError(clientId);
    }
    const entry = this.entryFor(clientId);
    const nowMs = this.clock();

    if (entry.token && nowMs < entry.token.expiresOnMs) {
      if (nowMs >= entry.renewAtMs) {
        this.renewInBackground(clientId, entry);
      }
      return entry.token;
    }

    return raceAbort(this.sharedFetch(clientId, entry), signal, () => abortedError(clientId));
  }

  /** Clears every timer and fails fetches in flight; later calls reject. */
  close(): void {
    this.closed = true;

    for (const [clientId, entry] of this.entries) {
      clearTimeout(entry.timer);
      entry.abort?.abort(closedError(clientId));
    }
    this.entries.clear();
  }

  private entryFor(clientId: string): CacheEntry {
    let entry = this.entries.get(clientId);
    if (!entry) {
      entry = { renewAtMs: 0 };
      this.entries.set(clientId, entry);
    }
    return entry;
  }

  private sharedFetch(clientId: string, entry: CacheEntry): Promise<AccessToken> {
    if (!entry.fetch) {
      entry.fetch = this.fetchWithTimeout(clientId, entry).finally(() => {
        entry.fetch = undefined;
        entry.abort = undefined;
      });
    }
    return entry.fetch;
  }

  private async fetchWithTimeout(clientId: string, entry: CacheEntry): Promise<AccessToken> {
    const controller = new AbortController();
    entry.abort = controller;
    const stopped = new Promise<never>((_resolve, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
    });
    const timer = setTimeout(() => controller.abort(timeoutError(clientId, this.fetchTimeoutMs)), this.fetchTimeoutMs);

    try {
      const token = await Promise.race([this.source.getToken(clientId, controller.signal), stopped]);
      this.checkToken(clientId, token);
      this.store(clientId, entry, token);
      return token;
    } catch (error) {
      throw asIdentityError(clientId, error);
    } finally {
      clearTimeout(timer);
    }
  }

  private checkToken(clientId: string, token: AccessToken): void {
    if (this.closed) {
      throw closedError(clientId);
    }

    if (typeof token?.token !== 'string' || token.token.length === 0 || !Number.isFinite(token.expiresOnMs)) {
      throw new IdentityError('token_service_failed', clientId, `token source returned no usable token for managed identity ${clientId}; expected a non-empty token and a numeric expiry`);
    }

    if (token.expiresOnMs <= this.clock()) {
      const expiredAt = new Date(token.expiresOnMs).toISOString();
      throw new IdentityError('token_service_failed', clientId, `token source returned a token for managed identity ${clientId} that expired at ${expiredAt}; check the clock of this machine`);
    }
  }

  private store(clientId: string, entry: CacheEntry, token: AccessToken): void {
    const nowMs = this.clock();
    const later = !entry.token || token.expiresOnMs > entry.token.expiresOnMs;
    entry.token = token;

    // A renewal that brought no later expiry (the source returned a token
    // from its own cache) is tried again after a pause instead of at once.
    entry.renewAtMs = later ? renewalDueMs(nowMs, token.expiresOnMs, this.renewBeforeMs) : nowMs + RENEW_RETRY_DELAY_MS;
    this.scheduleRenewal(clientId, entry);
  }

  private scheduleRenewal(clientId: string, entry: CacheEntry): void {
    clearTimeout(entry.timer);
    const delayMs = Math.min(Math.max(entry.renewAtMs - this.clock(), 0), MAX_TIMER_DELAY_MS);

    entry.timer = setTimeout(() => this.onRenewalTimer(clientId, entry), delayMs);
    entry.timer.unref();
  }

  private onRenewalTimer(clientId: string, entry: CacheEntry): void {
    entry.timer = undefined;
    if (this.closed) {
      return;
    }

    // A delay capped at MAX_TIMER_DELAY_MS fires before renewal is due.
    if (this.clock() < entry.renewAtMs) {
      this.scheduleRenewal(clientId, entry);
      return;
    }
    this.renewInBackground(clientId, entry);
  }

  private renewInBackground(clientId: string, entry: CacheEntry): void {
    if (entry.fetch) {
      return;
    }

    this.sharedFetch(clientId, entry).catch((error: Error) => {
      if (this.closed) {
        return;
      }

      // Retry while the current token is still valid. After it expires, the
      // next caller fetches in the foreground and gets the error itself.
      const nowMs = this.clock();
      if (entry.token && nowMs < entry.token.expiresOnMs) {
        entry.renewAtMs = nowMs + RENEW_RETRY_DELAY_MS;
        this.scheduleRenewal(clientId, entry);
      }
      this.onRenewError?.(clientId, error);
    });
  }
}

function asIdentityError(clientId: string, error: unknown): IdentityError {
  if (error instanceof IdentityError) {
    return error;
  }
  const cause = error instanceof Error ? error.message : String(error);
  return new IdentityError('token_service_failed', clientId, `token request for managed identity ${clientId} failed: ${cause}`, { cause: error });
}

function timeoutError(clientId: string, timeoutMs: number): IdentityError {
  return new IdentityError('token_timeout', clientId, `token request for managed identity ${clientId} timed out after ${timeoutMs} ms`, {
    hint: 'check that the managed-identity endpoint (IMDS, or AZURE_POD_IDENTITY_AUTHORITY_HOST when set) responds on this machine',
  });
}

function abortedError(clientId: string): IdentityError {
  return new IdentityError('token_aborted', clientId, `stopped waiting for a token for managed identity ${clientId} because the caller gave up`);
}

function closedError(clientId: string): IdentityError {
  return new IdentityError('token_cache_closed', clientId, `token cache is closed, so no token for managed identity ${clientId} can be fetched; the process is shutting down`);
}
