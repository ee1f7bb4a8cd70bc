import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  DEFAULT_FETCH_TIMEOUT_MS,
  MAX_TIMER_DELAY_MS,
  RENEW_RETRY_DELAY_MS,
  TokenCache,
  renewalDelayMs,
  type TokenCacheOptions,
} from '../../src/identity/token-cache.js';
import { IdentityError, type AccessToken, type TokenSource } from '../../src/identity/token-source.js';

const CLIENT_ID = 'client-a';
const OTHER_CLIENT_ID = 'client-b';
const START_MS = Date.UTC(2026, 0, 1);
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

interface PendingCall {
  clientId: string;
  signal?: AbortSignal;
  resolve(token: AccessToken): void;
  reject(error: Error): void;
}

/** A source whose calls stay pending until the test settles them. */
class FakeSource implements TokenSource {
  readonly calls: PendingCall[] = [];
  private issued = 0;

  getToken(clientId: string, signal?: AbortSignal): Promise<AccessToken> {
    return new Promise((resolve, reject) => this.calls.push({ clientId, signal, resolve, reject }));
  }

  /** Resolves call `index` with a new token that lives `lifetimeMs` from now. */
  answer(index: number, lifetimeMs = HOUR_MS): AccessToken {
    this.issued += 1;
    const token = { token: `token-${this.issued}`, expiresOnMs: Date.now() + lifetimeMs };
    this.calls[index].resolve(token);
    return token;
  }
}

let source: FakeSource;
let cache: TokenCache;

function createCache(options: TokenCacheOptions = {}): TokenCache {
  cache = new TokenCache(source, { clock: () => Date.now(), ...options });
  return cache;
}

/** Lets pending promise callbacks run without moving the fake clock. */
async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

async function fetchFirst(lifetimeMs = HOUR_MS): Promise<AccessToken> {
  const pending = cache.getToken(CLIENT_ID);
  await settle();
  source.answer(0, lifetimeMs);
  return pending;
}

beforeEach(() => {
  vi.useFakeTimers({ now: START_MS });
  source = new FakeSource();
});

afterEach(() => {
  cache?.close();
  vi.useRealTimers();
});

describe('renewalDelayMs', () => {
  it.each([
    ['an hour-long token', 0, HOUR_MS, 5 * MINUTE_MS, 55 * MINUTE_MS],
    ['a token shorter than twice the window', 0, 4 * MINUTE_MS, 5 * MINUTE_MS, 2 * MINUTE_MS],
    ['a token of exactly twice the window', 0, 10 * MINUTE_MS, 5 * MINUTE_MS, 5 * MINUTE_MS],
    ['a later start', 1_000, 1_000 + HOUR_MS, 5 * MINUTE_MS, 55 * MINUTE_MS],
    ['an expired token', 2_000, 1_000, 5 * MINUTE_MS, 0],
    ['a token expiring now', 1_000, 1_000, 5 * MINUTE_MS, 0],
    ['a zero window', 0, HOUR_MS, 0, HOUR_MS],
    ['a negative window', 0, HOUR_MS, -MINUTE_MS, HOUR_MS],
    ['an odd lifetime', 0, 1_001, 5 * MINUTE_MS, 500],
    ['a 60-day token', 0, 60 * 24 * HOUR_MS, 5 * MINUTE_MS, MAX_TIMER_DELAY_MS],
    ['a NaN expiry', 0, Number.NaN, 5 * MINUTE_MS, 0],
  ])('%s', (_name, nowMs, expiresOnMs, renewBeforeMs, expected) => {
    expect(renewalDelayMs(nowMs, expiresOnMs, renewBeforeMs)).toBe(expected);
  });

  it('stays below 2^31 ms', () => {
    expect(MAX_TIMER_DELAY_MS).toBeLessThan(2 ** 31);
  });
});

describe('TokenCache fetch', () => {
  it('shares one fetch among 50 callers', async () => {
    createCache();

    const waiters = Array.from({ length: 50 }, () => cache.getToken(CLIENT_ID));
    await settle();
    const token = source.answer(0);
    const results = await Promise.all(waiters);

    expect(source.calls).toHaveLength(1);
    expect(new Set(results.map((result) => result.token))).toEqual(new Set([token.token]));
  });

  it('serves the cached token', async () => {
    createCache();
    const first = await fetchFirst();

    await vi.advanceTimersByTimeAsync(30 * MINUTE_MS);
    const second = await cache.getToken(CLIENT_ID);

    expect(second).toEqual(first);
    expect(source.calls).toHaveLength(1);
  });

  it('keeps client IDs apart', async () => {
    createCache();

    const first = cache.getToken(CLIENT_ID);
    const other = cache.getToken(OTHER_CLIENT_ID);
    await settle();
    source.answer(0);
    source.answer(1);
    await Promise.all([first, other]);

    expect(source.calls.map((call) => call.clientId)).toEqual([CLIENT_ID, OTHER_CLIENT_ID]);
  });

  it('does not cache a failure', async () => {
    createCache();

    const failing = cache.getToken(CLIENT_ID).catch((error: unknown) => error);
    await settle();
    source.calls[0].reject(new Error('endpoint said no'));
    const failure = await failing;
    const retry = cache.getToken(CLIENT_ID);
    await settle();
    const token = source.answer(1);

    expect((failure as IdentityError).code).toBe('token_service_failed');
    expect((failure as IdentityError).message).toContain(CLIENT_ID);
    expect((failure as IdentityError).message).toContain('endpoint said no');
    expect(await retry).toEqual(token);
  });

  it('passes an IdentityError through', async () => {
    createCache();

    const failing = cache.getToken(CLIENT_ID).catch((error: unknown) => error);
    await settle();
    const original = new IdentityError('identity_not_found', CLIENT_ID, 'no such identity');
    source.calls[0].reject(original);

    expect(await failing).toBe(original);
  });

  it('times out a hanging fetch', async () => {
    createCache();

    const failing = cache.getToken(CLIENT_ID).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(DEFAULT_FETCH_TIMEOUT_MS);
    const failure = (await failing) as IdentityError;

    expect(failure).toBeInstanceOf(IdentityError);
    expect(failure.code).toBe('token_timeout');
    expect(failure.message).toContain(CLIENT_ID);
    expect(source.calls[0].signal?.aborted).toBe(true);
  });

  it('honours fetchTimeoutMs', async () => {
    createCache({ fetchTimeoutMs: 500 });
    let settled = false;

    const failing = cache.getToken(CLIENT_ID).catch((error: unknown) => error).finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(499);
    const settledEarly = settled;
    await vi.advanceTimersByTimeAsync(1);

    expect(settledEarly).toBe(false);
    expect(((await failing) as IdentityError).code).toBe('token_timeout');
  });

  it('fetches again after a timeout', async () => {
    createCache();

    const failing = cache.getToken(CLIENT_ID).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(DEFAULT_FETCH_TIMEOUT_MS);
    await failing;
    const retry = cache.getToken(CLIENT_ID);
    await settle();
    const token = source.answer(1);

    expect(await retry).toEqual(token);
  });

  it('rejects an expired token from the source', async () => {
    createCache();

    const failing = cache.getToken(CLIENT_ID).catch((error: unknown) => error);
    await settle();
    source.calls[0].resolve({ token: 'old', expiresOnMs: Date.now() - 1 });
    const failure = (await failing) as IdentityError;

    expect(failure.code).toBe('token_service_failed');
    expect(failure.message).not.toContain('old');
  });

  it('rejects an empty token from the source', async () => {
    createCache();

    const failing = cache.getToken(CLIENT_ID).catch((error: unknown) => error);
    await settle();
    source.calls[0].resolve({ token: '', expiresOnMs: Date.now() + HOUR_MS });

    expect(((await failing) as IdentityError).code).toBe('token_service_failed');
  });

  it('lets one caller abort', async () => {
    createCache();
    const controller = new AbortController();

    const aborted = cache.getToken(CLIENT_ID, controller.signal).catch((error: unknown) => error);
    const patient = cache.getToken(CLIENT_ID);
    await settle();
    controller.abort();
    const failure = (await aborted) as IdentityError;
    const token = source.answer(0);

    expect(failure.code).toBe('token_aborted');
    expect(await patient).toEqual(token);
    expect(source.calls[0].signal?.aborted).toBe(false);
  });
});

describe('TokenCache renewal', () => {
  it('renews ahead of expiry', async () => {
    createCache();
    const first = await fetchFirst(HOUR_MS);

    await vi.advanceTimersByTimeAsync(55 * MINUTE_MS - 1);
    const callsBeforeWindow = source.calls.length;
    await vi.advanceTimersByTimeAsync(1);

    expect(callsBeforeWindow).toBe(1);
    expect(source.calls).toHaveLength(2);
    expect(await cache.getToken(CLIENT_ID)).toEqual(first);
  });

  it('serves the renewed token', async () => {
    createCache();
    await fetchFirst(HOUR_MS);

    await vi.advanceTimersByTimeAsync(55 * MINUTE_MS);
    const renewed = source.answer(1);
    await settle();

    expect(await cache.getToken(CLIENT_ID)).toEqual(renewed);
  });

  it('renews a short token at half its lifetime', async () => {
    createCache();
    await fetchFirst(4 * MINUTE_MS);

    await vi.advanceTimersByTimeAsync(2 * MINUTE_MS - 1);
    const callsBefore = source.calls.length;
    await vi.advanceTimersByTimeAsync(1);

    expect(callsBefore).toBe(1);
    expect(source.calls).toHaveLength(2);
  });

  it('honours renewBeforeMs', async () => {
    createCache({ renewBeforeMs: 10 * MINUTE_MS });
    await fetchFirst(HOUR_MS);

    await vi.advanceTimersByTimeAsync(50 * MINUTE_MS);

    expect(source.calls).toHaveLength(2);
  });

  it('renews on demand inside the window', async () => {
    // A clock ahead of the timers, as after a suspended machine wakes up.
    let offsetMs = 0;
    createCache({ clock: () => Date.now() + offsetMs });
    const first = await fetchFirst(HOUR_MS);

    offsetMs = 56 * MINUTE_MS;
    const served = await cache.getToken(CLIENT_ID);

    expect(served).toEqual(first);
    expect(source.calls).toHaveLength(2);
  });

  it('fetches once the token expired', async () => {
    createCache({ onRenewError: () => undefined });
    await fetchFirst(HOUR_MS);

    await vi.advanceTimersByTimeAsync(55 * MINUTE_MS);
    source.calls[1].reject(new Error('down'));
    await vi.advanceTimersByTimeAsync(5 * MINUTE_MS);
    const waiting = cache.getToken(CLIENT_ID);
    await settle();
    const fresh = source.answer(source.calls.length - 1);

    expect(await waiting).toEqual(fresh);
  });

  it('reports a failed renewal', async () => {
    const onRenewError = vi.fn();
    createCache({ onRenewError });
    const first = await fetchFirst(HOUR_MS);

    await vi.advanceTimersByTimeAsync(55 * MINUTE_MS);
    source.calls[1].reject(new Error('endpoint down'));
    await settle();

    expect(onRenewError).toHaveBeenCalledTimes(1);
    expect(onRenewError.mock.calls[0][0]).toBe(CLIENT_ID);
    expect(onRenewError.mock.calls[0][1]).toBeInstanceOf(IdentityError);
    expect(await cache.getToken(CLIENT_ID)).toEqual(first);
  });

  it('retries a failed renewal later', async () => {
    createCache({ onRenewError: () => undefined });
    await fetchFirst(HOUR_MS);

    await vi.advanceTimersByTimeAsync(55 * MINUTE_MS);
    source.calls[1].reject(new Error('endpoint down'));
    await vi.advanceTimersByTimeAsync(RENEW_RETRY_DELAY_MS - 1);
    const callsBeforeRetry = source.calls.length;
    await vi.advanceTimersByTimeAsync(1);

    expect(callsBeforeRetry).toBe(2);
    expect(source.calls).toHaveLength(3);
  });

  it('pauses after a renewal with no later expiry', async () => {
    createCache();
    const first = await fetchFirst(HOUR_MS);

    await vi.advanceTimersByTimeAsync(55 * MINUTE_MS);
    source.calls[1].resolve(first);
    await vi.advanceTimersByTimeAsync(RENEW_RETRY_DELAY_MS - 1);
    const callsBeforeRetry = source.calls.length;
    await vi.advanceTimersByTimeAsync(1);

    expect(callsBeforeRetry).toBe(2);
    expect(source.calls).toHaveLength(3);
  });

  it('re-arms a capped timer', async () => {
    createCache();
    await fetchFirst(60 * 24 * HOUR_MS);

    await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS);
    const callsAfterCappedDelay = source.calls.length;
    const timersAfterCappedDelay = vi.getTimerCount();
    await vi.advanceTimersByTimeAsync(60 * 24 * HOUR_MS - 5 * MINUTE_MS - MAX_TIMER_DELAY_MS);

    expect(callsAfterCappedDelay).toBe(1);
    expect(timersAfterCappedDelay).toBe(1);
    expect(source.calls).toHaveLength(2);
  });
});

describe('TokenCache close', () => {
  it('clears every timer', async () => {
    createCache();
    await fetchFirst();
    const other = cache.getToken(OTHER_CLIENT_ID);
    await settle();
    source.answer(1);
    await other;
    const timersBeforeClose = vi.getTimerCount();

    cache.close();

    expect(timersBeforeClose).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails a fetch in flight', async () => {
    createCache();

    const waiting = cache.getToken(CLIENT_ID).catch((error: unknown) => error);
    await settle();
    cache.close();
    const failure = (await waiting) as IdentityError;

    expect(failure.code).toBe('token_cache_closed');
    expect(source.calls[0].signal?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects later calls', async () => {
    createCache();

    cache.close();
    const failure = (await cache.getToken(CLIENT_ID).catch((error: unknown) => error)) as IdentityError;

    expect(failure.code).toBe('token_cache_closed');
    expect(source.calls).toHaveLength(0);
  });
});
