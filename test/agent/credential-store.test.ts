import { readFile, stat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialStore, type KeyringEntry, type KeyringOpener } from '../../src/agent/credential-store.js';
import type { SdmPaths } from '../../src/agent/home.js';
import { tempHome } from './agent-fixture.js';

const GATEWAY = { host: '127.0.0.1', port: 8443 };
const TOKEN = 'tok-credential-test-123';

let home: { paths: SdmPaths; remove(): Promise<void> };
let warnings: string[];

beforeEach(async () => {
  home = await tempHome();
  warnings = [];
});

afterEach(async () => {
  await home.remove();
});

function failingKeyring(): KeyringOpener {
  return async () => {
    throw new Error('Platform secure storage failure: no secret service');
  };
}

function memoryKeyring(): { opener: KeyringOpener; values: Map<string, string> } {
  const values = new Map<string, string>();
  const opener: KeyringOpener = async (service, account) => {
    const key = `${service}/${account}`;
    const entry: KeyringEntry = {
      getPassword: () => values.get(key) ?? null,
      setPassword: (password) => void values.set(key, password),
      deletePassword: () => values.delete(key),
    };
    return entry;
  };
  return { opener, values };
}

function store(keyring: KeyringOpener | null, env: Record<string, string> = {}): CredentialStore {
  return new CredentialStore({ paths: home.paths, env, keyring, warn: (message) => warnings.push(message) });
}

describe('credential store', () => {
  it('falls back to a 0600 file', async () => {
    const location = await store(failingKeyring()).saveToken(GATEWAY, TOKEN);
    expect(location).toBe('file');

    const info = await stat(home.paths.credentials);
    expect(info.mode & 0o777).toBe(0o600);
    expect(await readFile(home.paths.credentials, 'utf8')).toContain(TOKEN);
  });

  it('warns once on fallback', async () => {
    await store(failingKeyring()).saveToken(GATEWAY, TOKEN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('no secret service');
    expect(warnings[0]).toContain(home.paths.credentials);
    expect(warnings[0]).not.toContain(TOKEN);

    await store(failingKeyring()).saveToken(GATEWAY, TOKEN);
    await store(failingKeyring()).saveToken({ host: '127.0.0.2', port: 8443 }, TOKEN);
    expect(warnings).toHaveLength(1);
  });

  it('reads the token back from the file', async () => {
    await store(failingKeyring()).saveToken(GATEWAY, TOKEN);
    const found = await store(failingKeyring()).getToken(GATEWAY);
    expect(found).toEqual({ token: TOKEN, location: 'file' });
  });

  it('prefers the keyring', async () => {
    const keyring = memoryKeyring();
    const location = await store(keyring.opener).saveToken(GATEWAY, TOKEN);
    expect(location).toBe('keyring');
    expect(keyring.values.get('sdm/127.0.0.1:8443')).toBe(TOKEN);
    expect(warnings).toEqual([]);
    expect(await store(keyring.opener).getToken(GATEWAY)).toEqual({ token: TOKEN, location: 'keyring' });
  });

  it('lets SDM_TOKEN override', async () => {
    const keyring = memoryKeyring();
    await store(keyring.opener).saveToken(GATEWAY, TOKEN);
    const found = await store(keyring.opener, { SDM_TOKEN: 'from-env' }).getToken(GATEWAY);
    expect(found).toEqual({ token: 'from-env', location: 'environment' });
  });

  it('forgets keyring and file', async () => {
    const keyring = memoryKeyring();
    await store(failingKeyring()).saveToken(GATEWAY, TOKEN);
    await store(keyring.opener).saveToken({ ...GATEWAY, port: 9443 }, TOKEN);

    await store(keyring.opener).forgetToken(GATEWAY);
    await store(keyring.opener).forgetToken({ ...GATEWAY, port: 9443 });
    expect(await store(keyring.opener).getToken(GATEWAY)).toBeUndefined();
    expect(keyring.values.size).toBe(0);
  });

  it('skips the keyring when SDM_KEYRING is off', async () => {
    const keyring = memoryKeyring();
    const location = await store(keyring.opener, { SDM_KEYRING: 'off' }).saveToken(GATEWAY, TOKEN);
    expect(location).toBe('file');
    expect(keyring.values.size).toBe(0);
  });
});
