import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/exit-codes.js';
import { fetchNodeFingerprint } from '../../src/tunnel/tls.js';
import { createHarness, type Harness } from './cli-harness.js';

let harness: Harness;

beforeEach(async () => {
  harness = await createHarness();
});

afterEach(async () => {
  await harness.remove();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('gateway', () => {
  it('init prints token and fingerprint as JSON', async () => {
    const dataDir = join(harness.paths.home, 'node');
    const result = await harness.run(['gateway', 'init', '--data-dir', dataDir, '--listen', '127.0.0.1:18444', '--json']);
    expect(result.code).toBe(ExitCode.OK);

    const printed = JSON.parse(result.stdout) as { adminToken: string; fingerprint: string; listen: string; dataDir: string };
    expect(printed.adminToken.length).toBeGreaterThanOrEqual(32);
    expect(printed.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(printed.listen).toBe('127.0.0.1:18444');
    expect(printed.dataDir).toBe(dataDir);
  });

  it('init prints the next steps', async () => {
    const dataDir = join(harness.paths.home, 'node');
    const result = await harness.run(['gateway', 'init', '--data-dir', dataDir, '--listen', '0.0.0.0:18445']);
    expect(result.stdout).toContain(`sdm gateway start --data-dir ${dataDir}`);
    expect(result.stdout).toContain('sdm login --gateway HOST:18445 --fingerprint ');
  });

  it('init twice gives CONFLICT', async () => {
    const dataDir = join(harness.paths.home, 'node');
    await harness.run(['gateway', 'init', '--data-dir', dataDir]);
    const result = await harness.run(['gateway', 'init', '--data-dir', dataDir]);
    expect(result.code).toBe(ExitCode.CONFLICT);
    expect(result.stderr).toContain('already contains an initialised node');
  });

  it('init rejects a bad listen address', async () => {
    const result = await harness.run(['gateway', 'init', '--data-dir', join(harness.paths.home, 'node'), '--listen', '8443']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('invalid --listen "8443"');
  });

  it('start serves until stopped', async () => {
    const dataDir = join(harness.paths.home, 'node');
    const port = await freePort();
    const init = JSON.parse((await harness.run(['gateway', 'init', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--json'])).stdout) as { fingerprint: string };

    let stop: (signal: string) => void = () => undefined;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    const run = harness.run(['gateway', 'start', '--data-dir', dataDir], { waitForStop: () => stopped });

    let fingerprint: string | undefined;
    for (let attempt = 0; attempt < 200 && fingerprint === undefined; attempt += 1) {
      fingerprint = await fetchNodeFingerprint('127.0.0.1', port, 1_000).catch(() => undefined);
      if (fingerprint === undefined) {
        await sleep(50);
      }
    }
    stop('SIGTERM');

    const result = await run;
    expect(fingerprint).toBe(init.fingerprint);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stderr).toContain('node listening');
  });
});
