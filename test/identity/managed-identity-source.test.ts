// Runs @azure/identity's real ManagedIdentityCredential against the IMDS
// emulator. The SDK reads AZURE_POD_IDENTITY_AUTHORITY_HOST on the first
// token request of the process and keeps the retry settings of the first
// credential that sends one. So this file sets the variable before any
// request and uses maxRetries 0 throughout, which makes a 404 or 5xx fail
// after one request. The SDK's defaults retry a 404 5 times and a 5xx 3
// times, which took 18.6 s and 5.0 s in one run each. MSAL also caches
// tokens for the whole process by client ID, so each test uses its own
// client ID.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startEmulator, type Emulator } from '../../src/emulator/imds-emulator.js';
import { ManagedIdentityTokenSource, toIdentityError, type CredentialLike } from '../../src/identity/managed-identity-source.js';
import { TokenCache } from '../../src/identity/token-cache.js';
import { IdentityError } from '../../src/identity/token-source.js';

/** Upper bound for each test that talks to the emulator; every case here fails or succeeds in well under a second. */
const BOUNDED_TEST_MS = 10_000;

const GOOD_ID = '11111111-1111-4111-8111-111111111111';
const CACHED_ID = '22222222-2222-4222-8222-222222222222';
const FAILING_ID = '33333333-3333-4333-8333-333333333333';
const HANGING_ID = '44444444-4444-4444-8444-444444444444';
const TIMEOUT_ID = '55555555-5555-4555-8555-555555555555';
const UNKNOWN_ID = '99999999-9999-4999-8999-999999999999';

let emulator: Emulator;
let source: ManagedIdentityTokenSource;

beforeAll(async () => {
  emulator = await startEmulator({ identities: [GOOD_ID, CACHED_ID, FAILING_ID, HANGING_ID, TIMEOUT_ID] });
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = emulator.url;
  source = new ManagedIdentityTokenSource({ maxRetries: 0 });
});

afterAll(async () => {
  await emulator.close();
});

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Waits, for at most about one second, until the emulator has one unanswered request. */
async function waitForPending(): Promise<void> {
  for (let attempt = 0; attempt < 100 && emulator.pendingCount() === 0; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('ManagedIdentityTokenSource with the emulator', () => {
  it('returns a token', { timeout: BOUNDED_TEST_MS }, async () => {
    const token = await source.getToken(GOOD_ID);
    const payload = payloadOf(token.token);

    expect(payload.appid).toBe(GOOD_ID);
    expect(payload.aud).toBe('https://ossrdbms-aad.database.windows.net');
    expect(token.expiresOnMs).toBe((payload.exp as number) * 1000);
    expect(emulator.issuedCount(GOOD_ID)).toBe(1);
  });

  it('reuses the SDK cache for a client ID', { timeout: BOUNDED_TEST_MS }, async () => {
    const first = await source.getToken(CACHED_ID);
    const second = await new ManagedIdentityTokenSource({ maxRetries: 0 }).getToken(CACHED_ID);

    expect(second.token).toBe(first.token);
    expect(emulator.issuedCount(CACHED_ID)).toBe(1);
  });

  it('maps an unknown client ID', { timeout: BOUNDED_TEST_MS }, async () => {
    const failure = (await source.getToken(UNKNOWN_ID).catch((error: unknown) => error)) as IdentityError;

    expect(failure).toBeInstanceOf(IdentityError);
    expect(failure.code).toBe('identity_not_found');
    expect(failure.clientId).toBe(UNKNOWN_ID);
    expect(failure.message).toContain(UNKNOWN_ID);
    expect(failure.message).toContain('HTTP 400');
  });

  it('maps a failing token service', { timeout: BOUNDED_TEST_MS }, async () => {
    emulator.setFailure('error');
    const failure = (await source.getToken(FAILING_ID).catch((error: unknown) => error)) as IdentityError;
    emulator.setFailure('none');

    expect(failure.code).toBe('token_service_failed');
    expect(failure.message).toContain(FAILING_ID);
    expect(failure.message).toContain('HTTP 500 server_error');
    expect(emulator.issuedCount(FAILING_ID)).toBe(0);
  });

  it('stops waiting on abort', { timeout: BOUNDED_TEST_MS }, async () => {
    emulator.setFailure('hang');
    const controller = new AbortController();

    const waiting = source.getToken(HANGING_ID, controller.signal).catch((error: unknown) => error);
    await waitForPending();
    const heldRequests = emulator.pendingCount();
    controller.abort();
    const failure = (await waiting) as IdentityError;
    emulator.setFailure('none');

    expect(heldRequests).toBe(1);
    expect(failure.code).toBe('token_aborted');
    expect(failure.message).toContain(HANGING_ID);
  });

  it('times out behind the cache', { timeout: BOUNDED_TEST_MS }, async () => {
    emulator.setFailure('hang');
    const cache = new TokenCache(source, { fetchTimeoutMs: 200 });

    const failure = (await cache.getToken(TIMEOUT_ID).catch((error: unknown) => error)) as IdentityError;
    cache.close();
    emulator.setFailure('none');

    expect(failure.code).toBe('token_timeout');
    expect(failure.message).toContain(TIMEOUT_ID);
  });
});

describe('ManagedIdentityTokenSource credentials', () => {
  function countingSource() {
    const created: string[] = [];
    const credential: CredentialLike = {
      getToken: async () => ({ token: 'header.payload.signature', expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const counted = new ManagedIdentityTokenSource({
      createCredential: async (clientId) => {
        created.push(clientId);
        return credential;
      },
    });
    return { created, counted };
  }

  it('creates one per client ID', async () => {
    const { created, counted } = countingSource();

    await counted.getToken('a');
    await counted.getToken('a');
    await counted.getToken('b');

    expect(created).toEqual(['a', 'b']);
  });

  it('passes maxRetries', async () => {
    const retries: number[] = [];
    const counted = new ManagedIdentityTokenSource({
      maxRetries: 4,
      createCredential: async (_clientId, maxRetries) => {
        retries.push(maxRetries);
        return { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 1000 }) };
      },
    });

    await counted.getToken('a');

    expect(retries).toEqual([4]);
  });

  it.each(['', '   '])('rejects client ID %j', async (clientId) => {
    const { created, counted } = countingSource();

    const failure = (await counted.getToken(clientId).catch((error: unknown) => error)) as IdentityError;

    expect(failure.code).toBe('invalid_client_id');
    expect(created).toEqual([]);
  });

  it('skips the request when aborted', async () => {
    let requests = 0;
    const counted = new ManagedIdentityTokenSource({
      createCredential: async () => ({
        getToken: async () => {
          requests += 1;
          return { token: 't', expiresOnTimestamp: Date.now() + 1000 };
        },
      }),
    });

    const failure = (await counted.getToken('a', AbortSignal.abort()).catch((error: unknown) => error)) as IdentityError;

    expect(failure.code).toBe('token_aborted');
    expect(requests).toBe(0);
  });

  it('rejects a null result', async () => {
    const counted = new ManagedIdentityTokenSource({ createCredential: async () => ({ getToken: async () => null }) });

    const failure = (await counted.getToken('a').catch((error: unknown) => error)) as IdentityError;

    expect(failure.code).toBe('token_service_failed');
  });

  it('retries a failed creation', async () => {
    let attempts = 0;
    const counted = new ManagedIdentityTokenSource({
      createCredential: async () => {
        attempts += 1;
        if (attempts === 1) {
          throw new Error('module missing');
        }
        return { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 1000 }) };
      },
    });

    const failure = (await counted.getToken('a').catch((error: unknown) => error)) as IdentityError;
    const token = await counted.getToken('a');

    expect(failure.code).toBe('token_service_failed');
    expect(failure.message).toContain('module missing');
    expect(token.token).toBe('t');
  });
});

describe('toIdentityError', () => {
  function sdkError(cause: object): Error {
    return Object.assign(new Error('ManagedIdentityCredential: Authentication failed.'), { name: 'CredentialUnavailableError', cause });
  }

  const msalMessage = (description: string) =>
    `Error(s): Not Available - Timestamp: Not Available - Description: ${description} - Correlation ID: Not Available - Trace ID: Not Available`;

  it('maps network_error', () => {
    const error = toIdentityError('id', sdkError({ name: 'ClientAuthError', errorCode: 'network_error', errorMessage: 'See https://aka.ms' }));

    expect(error.code).toBe('token_service_unreachable');
    expect(error.hint).toContain('AZURE_POD_IDENTITY_AUTHORITY_HOST');
  });

  it('maps Identity not found', () => {
    const error = toIdentityError('id', sdkError({ name: 'ServerError', errorCode: 'invalid_request', status: 400, errorMessage: msalMessage('Identity not found') }));

    expect(error.code).toBe('identity_not_found');
    expect(error.message).toContain('HTTP 400 invalid_request: Identity not found');
  });

  it('maps other server errors', () => {
    const error = toIdentityError('id', sdkError({ name: 'ServerError', errorCode: 'invalid_resource', status: 400, errorMessage: msalMessage('AADSTS500011') }));

    expect(error.code).toBe('token_service_failed');
    expect(error.message).toContain('HTTP 400 invalid_resource: AADSTS500011');
  });

  it('shortens long descriptions', () => {
    const error = toIdentityError('id', sdkError({ errorCode: 'server_error', status: 500, errorMessage: msalMessage('x'.repeat(1000)) }));

    expect(error.message.length).toBeLessThan(500);
  });

  it('maps an unknown error', () => {
    const error = toIdentityError('id', new Error('something else'));

    expect(error.code).toBe('token_service_failed');
    expect(error.message).toContain('something else');
  });

  it('passes an IdentityError through', () => {
    const original = new IdentityError('token_timeout', 'id', 'timed out');

    expect(toIdentityError('id', original)).toBe(original);
  });
});
