import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveConfig } from '../../src/agent/client-config.js';
import { maxSocketPathBytes, sdmPaths } from '../../src/agent/home.js';
import { ExitCode } from '../../src/exit-codes.js';
import { createHarness, type Harness } from './cli-harness.js';

let harness: Harness;
let longHome: string;
let launches: number;

beforeEach(async () => {
  harness = await createHarness();
  longHome = join(harness.paths.home, 'h'.repeat(140));
  launches = 0;
});

afterEach(async () => {
  await harness.remove();
});

const launchAgent = async (): Promise<void> => {
  launches += 1;
};

describe('socket path limit', () => {
  it('connect fails before starting the agent', async () => {
    const result = await harness.run(['connect', 'orders-db'], { env: { SDM_HOME: longHome, SDM_TOKEN: 'sdm_x' }, deps: { launchAgent } });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain("error: the agent's socket path");
    expect(result.stderr).toContain(`allow at most ${maxSocketPathBytes()}`);
    expect(result.stderr).toContain('SDM_HOME');
    expect(result.stderr).toContain('hint: set SDM_HOME to a shorter directory');
    expect(launches).toBe(0);
  });

  it('disconnect fails the same way', async () => {
    const result = await harness.run(['disconnect', '--all'], { env: { SDM_HOME: longHome } });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('SDM_HOME');
  });

  it('listen fails without a socket', async () => {
    const result = await harness.run(['listen'], { env: { SDM_HOME: longHome } });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('set SDM_HOME to a shorter directory');
  });

  it('logout still succeeds', async () => {
    await saveConfig(sdmPaths(longHome), { gateway: { host: '127.0.0.1', port: 8443 }, fingerprint: 'AA:'.repeat(31) + 'AA' });

    const result = await harness.run(['logout'], { env: { SDM_HOME: longHome, SDM_KEYRING: 'off' } });

    expect(result.stderr).not.toContain('error:');
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain('logged out of 127.0.0.1:8443');
  });

  it('limit of each platform', () => {
    expect(maxSocketPathBytes('linux')).toBe(107);
    expect(maxSocketPathBytes('darwin')).toBe(103);
  });
});
