import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotLoggedInError, saveConfig, WatchedConfig } from '../../src/agent/client-config.js';
import { sdmPaths, type SdmPaths } from '../../src/agent/home.js';

let paths: SdmPaths;

beforeEach(async () => {
  paths = sdmPaths(await mkdtemp(join(tmpdir(), 'sdm-config-')));
});

afterEach(async () => {
  await rm(paths.home, { recursive: true, force: true });
});

describe('WatchedConfig', () => {
  it('raises NotLoggedInError without a config', async () => {
    await expect(new WatchedConfig(paths).require()).rejects.toBeInstanceOf(NotLoggedInError);
  });

  it('sees logins, logouts and edits', async () => {
    const watched = new WatchedConfig(paths);
    await saveConfig(paths, { gateway: { host: '127.0.0.1', port: 7000 }, fingerprint: 'AA' });
    expect((await watched.require()).gateway.port).toBe(7000);
    expect((await watched.require()).gateway.port).toBe(7000);

    await saveConfig(paths, { gateway: { host: '127.0.0.1', port: 7001 }, fingerprint: 'AA' });
    expect((await watched.require()).gateway.port).toBe(7001);

    await writeFile(paths.config, JSON.stringify({ gateway: { host: '127.0.0.2', port: 7001 } }));
    expect((await watched.require()).gateway.host).toBe('127.0.0.2');

    await rm(paths.config);
    await expect(watched.require()).rejects.toBeInstanceOf(NotLoggedInError);
  });

  it('rejects an invalid config on every read', async () => {
    const watched = new WatchedConfig(paths);
    await saveConfig(paths, { gateway: { host: '127.0.0.1', port: 7000 } });
    await watched.require();
    await writeFile(paths.config, '{"gateway": 5}');
    await expect(watched.require()).rejects.toThrow(/config/);
    await expect(watched.require()).rejects.toThrow(/config/);
  });
});
