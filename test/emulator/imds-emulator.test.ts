import { afterEach, describe, expect, it } from 'vitest';

import { SdmError } from '../../src/errors.js';
import { MAX_FAKE_TOKEN_BYTES, objectIdFor } from '../../src/emulator/fake-token.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/imds-emulator.js';

const CLIENT_ID = '0b7e5d2a-4c1f-4e6b-9a55-3f0c2d1e8a01';
const OTHER_CLIENT_ID = '9f1a2b3c-5d6e-4f70-8a9b-0c1d2e3f4a5b';
const RESOURCE = 'https://ossrdbms-aad.database.windows.net';
const TOKEN_PATH = '/metadata/identity/oauth2/token';

let emulator: Emulator | undefined;

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function start(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  emulator = await startEmulator({ identities: [CLIENT_ID], ...options });
  return emulator;
}

function tokenUrl(base: string, query: Record<string, string> = {}, path = TOKEN_PATH): string {
  const params = new URLSearchParams({ 'api-version': '2018-02-01', resource: RESOURCE, client_id: CLIENT_ID, ...query });
  for (const [key, value] of Object.entries(query)) {
    if (value === '') {
      params.delete(key);
    }
  }
  return `${base}${path}?${params}`;
}

async function get(url: string, headers: Record<string, string> = { Metadata: 'true' }, method = 'GET') {
  const response = await fetch(url, { method, headers });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('emulator token response', () => {
  it('issues a token', async () => {
    const { url } = await start();

    const { status, body } = await get(tokenUrl(url));

    expect(status).toBe(200);
    expect(body.token_type).toBe('Bearer');
    expect(body.refresh_token).toBe('');
    expect(body.resource).toBe(RESOURCE);
    expect(body.client_id).toBe(CLIENT_ID);
  });

  it('sends numbers as strings', async () => {
    const { url } = await start({ tokenLifetimeSeconds: 120 });

    const { body } = await get(tokenUrl(url));

    expect(body.expires_in).toBe('120');
    expect(typeof body.expires_on).toBe('string');
    expect(Number(body.expires_on) - Number(body.not_before)).toBe(120);
  });

  it('accepts a trailing slash', async () => {
    const { url } = await start();

    const { status } = await get(tokenUrl(url, {}, `${TOKEN_PATH}/`));

    expect(status).toBe(200);
  });

  it('accepts a doubled leading slash', async () => {
    const { url } = await start();

    const { status } = await get(tokenUrl(url, {}, `/${TOKEN_PATH}/`));

    expect(status).toBe(200);
  });

  it('matches client IDs in any case', async () => {
    const { url } = await start();

    const { status } = await get(tokenUrl(url, { client_id: CLIENT_ID.toUpperCase() }));

    expect(status).toBe(200);
  });

  it('uses the only identity when none is named', async () => {
    const { url } = await start();

    const { status, body } = await get(tokenUrl(url, { client_id: '' }));

    expect(status).toBe(200);
    expect(body.client_id).toBe(CLIENT_ID);
  });

  it('binds ::1', async () => {
    const { url, port } = await start({ host: '::1' });

    const { status } = await get(tokenUrl(url));

    expect(url).toBe(`http://[::1]:${port}`);
    expect(status).toBe(200);
  });
});

describe('emulator token', () => {
  it('looks like a JWT', async () => {
    const { url } = await start();

    const { body } = await get(tokenUrl(url));
    const parts = body.access_token.split('.');
    const payload = decodePart(parts[1]);

    expect(parts).toHaveLength(3);
    expect(decodePart(parts[0]).typ).toBe('JWT');
    expect(payload.aud).toBe(RESOURCE);
    expect(payload.oid).toBe(objectIdFor(CLIENT_ID));
    expect(payload.exp).toBe(Number(body.expires_on));
  });

  it('stays under 900 bytes', async () => {
    const { url } = await start();

    const { body } = await get(tokenUrl(url));

    expect(Buffer.byteLength(body.access_token)).toBeLessThan(MAX_FAKE_TOKEN_BYTES);
  });

  it('is unique per issue', async () => {
    const { url } = await start();

    const first = await get(tokenUrl(url));
    const second = await get(tokenUrl(url));

    expect(first.body.access_token).not.toBe(second.body.access_token);
  });
});

describe('emulator errors', () => {
  it('rejects a missing Metadata header', async () => {
    const { url } = await start();

    const { status, body } = await get(tokenUrl(url), {});

    expect(status).toBe(400);
    expect(body).toEqual({ error: 'invalid_request', error_description: 'Required metadata header not specified' });
  });

  it('rejects Metadata other than true', async () => {
    const { url } = await start();

    const { status } = await get(tokenUrl(url), { Metadata: 'false' });

    expect(status).toBe(400);
  });

  it('rejects an unknown client ID', async () => {
    const { url } = await start();

    const { status, body } = await get(tokenUrl(url, { client_id: OTHER_CLIENT_ID }));

    expect(status).toBe(400);
    expect(body).toEqual({ error: 'invalid_request', error_description: 'Identity not found' });
  });

  it.each(['msi_res_id', 'object_id'])('treats %s as unknown', async (parameter) => {
    const { url } = await start();

    const { status, body } = await get(tokenUrl(url, { client_id: '', [parameter]: 'some-id' }));

    expect(status).toBe(400);
    expect(body.error_description).toBe('Identity not found');
  });

  it('rejects no identity among several', async () => {
    const { url } = await start({ identities: [CLIENT_ID, OTHER_CLIENT_ID] });

    const { status, body } = await get(tokenUrl(url, { client_id: '' }));

    expect(status).toBe(400);
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toMatch(/Multiple user assigned identities/);
  });

  it.each(['api-version', 'resource'])('rejects a missing %s', async (parameter) => {
    const { url } = await start();

    const { status, body } = await get(tokenUrl(url, { [parameter]: '' }));

    expect(status).toBe(400);
    expect(body.error_description).toContain(parameter);
  });

  it('rejects POST', async () => {
    const { url } = await start();

    const { status } = await get(tokenUrl(url), { Metadata: 'true' }, 'POST');

    expect(status).toBe(405);
  });

  it('returns 404 for other paths', async () => {
    const { url } = await start();

    const { status } = await get(`${url}/metadata/instance?api-version=2021-02-01`);

    expect(status).toBe(404);
  });
});

describe('emulator options', () => {
  it.each(['0.0.0.0', '10.0.0.1', '169.254.169.254', '::', 'localhost', 'example.com'])('rejects host %s', async (host) => {
    const failure = await startEmulator({ host, identities: [CLIENT_ID] }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(SdmError);
    expect((failure as SdmError).code).toBe('invalid_value');
    expect((failure as SdmError).message).toContain(host);
  });

  it('rejects a zero lifetime', async () => {
    const failure = await startEmulator({ identities: [CLIENT_ID], tokenLifetimeSeconds: 0 }).catch((error: unknown) => error);

    expect((failure as SdmError).code).toBe('invalid_value');
  });

  it('counts issues per client ID', async () => {
    const { url, ...control } = await start({ identities: [CLIENT_ID, OTHER_CLIENT_ID] });

    await get(tokenUrl(url));
    await get(tokenUrl(url));
    await get(tokenUrl(url, { client_id: OTHER_CLIENT_ID }));
    await get(tokenUrl(url, { client_id: 'unknown' }));

    expect(control.issuedCount(CLIENT_ID)).toBe(2);
    expect(control.issuedCount(OTHER_CLIENT_ID.toUpperCase())).toBe(1);
    expect(control.issuedCount()).toBe(3);
  });

  it('adds an identity', async () => {
    const started = await start();

    started.addIdentity(OTHER_CLIENT_ID);
    const { status } = await get(tokenUrl(started.url, { client_id: OTHER_CLIENT_ID }));

    expect(status).toBe(200);
  });
});

describe('emulator onIssue', () => {
  it('is awaited before responding', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const issued: string[] = [];
    let called: () => void = () => undefined;
    const onIssueCalled = new Promise<void>((resolve) => (called = resolve));
    const { url } = await start({
      onIssue: async (_clientId, token) => {
        issued.push(token);
        called();
        await gate;
      },
    });

    let answered = false;
    const answer = get(tokenUrl(url)).then((result) => {
      answered = true;
      return result;
    });
    await onIssueCalled;
    await new Promise((resolve) => setImmediate(resolve));
    const answeredBeforeRelease = answered;
    release();
    const { body } = await answer;

    expect(answeredBeforeRelease).toBe(false);
    expect(issued).toEqual([body.access_token]);
  });

  it('turns a rejection into 500', async () => {
    const started = await start({
      onIssue: () => {
        throw new Error('cannot set password');
      },
    });

    const { status, body } = await get(tokenUrl(started.url));

    expect(status).toBe(500);
    expect(body.error_description).toContain('cannot set password');
    expect(started.issuedCount()).toBe(0);
  });
});

describe('emulator failure modes', () => {
  it('answers 500 in error mode', async () => {
    const started = await start();

    started.setFailure('error');
    const { status, body } = await get(tokenUrl(started.url));

    expect(status).toBe(500);
    expect(body.error).toBe('server_error');
    expect(started.issuedCount()).toBe(0);
  });

  it('recovers after none', async () => {
    const started = await start();

    started.setFailure('error');
    await get(tokenUrl(started.url));
    started.setFailure('none');
    const { status } = await get(tokenUrl(started.url));

    expect(status).toBe(200);
  });

  it('still checks the header in error mode', async () => {
    const started = await start();

    started.setFailure('error');
    const { status } = await get(tokenUrl(started.url), {});

    expect(status).toBe(400);
  });

  it('hangs until close', async () => {
    const started = await start();
    started.setFailure('hang');

    const pending = fetch(tokenUrl(started.url), { headers: { Metadata: 'true' } }).then(
      () => 'answered',
      () => 'failed',
    );
    await waitForPending(started);
    const heldBeforeClose = started.pendingCount();
    await started.close();
    emulator = undefined;

    expect(heldBeforeClose).toBe(1);
    expect(await pending).toBe('failed');
    expect(started.pendingCount()).toBe(0);
  });
});

/** Waits, for at most about one second, until the emulator has one unanswered request. */
async function waitForPending(started: Emulator): Promise<void> {
  for (let attempt = 0; attempt < 100 && started.pendingCount() === 0; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
