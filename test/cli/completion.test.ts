import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/exit-codes.js';
import { createHarness, loginTo, type Harness } from './cli-harness.js';
import { ADMIN_TOKEN, resourceView, startFakeAdminNode, type FakeAdminNode } from './fake-admin-node.js';

let harness: Harness;

beforeEach(async () => {
  harness = await createHarness();
});

afterEach(async () => {
  await harness.remove();
});

function shipped(file: string): string {
  return readFileSync(new URL(`../../completions/${file}`, import.meta.url), 'utf8');
}

describe('completion', () => {
  it.each([
    ['bash', 'sdm.bash', 'complete -F _sdm sdm'],
    ['zsh', '_sdm', '#compdef sdm'],
    ['fish', 'sdm.fish', 'complete -c sdm'],
  ])('prints the %s script', async (shell, file, marker) => {
    const result = await harness.run(['completion', shell]);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toBe(shipped(file));
    expect(result.stdout).toContain(marker);
    expect(result.stdout).toContain('sdm __complete resources');
  });

  it('rejects an unknown shell', async () => {
    const result = await harness.run(['completion', 'tcsh']);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('bash, zsh, fish');
  });

  it('lists resource names', async () => {
    const node: FakeAdminNode = await startFakeAdminNode();
    node.routes.set('GET /v1/resources', () => ({ body: [resourceView('orders-db'), resourceView('billing-db')] }));
    await loginTo(harness.paths, node);

    const result = await harness.run(['__complete', 'resources'], { env: { SDM_TOKEN: ADMIN_TOKEN } });
    await node.close();
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toBe('orders-db\nbilling-db\n');
  });

  it('falls back past a stuck agent', async () => {
    const node: FakeAdminNode = await startFakeAdminNode();
    node.routes.set('GET /v1/resources', () => ({ body: [resourceView('orders-db')] }));
    await loginTo(harness.paths, node);
    const stuckAgent = createServer(() => undefined);
    await new Promise<void>((resolve) => stuckAgent.listen(harness.paths.socket, resolve));

    try {
      const result = await harness.run(['__complete', 'resources'], { env: { SDM_TOKEN: ADMIN_TOKEN } });
      expect(result.code).toBe(ExitCode.OK);
      expect(result.stdout).toBe('orders-db\n');
    } finally {
      stuckAgent.close();
      await node.close();
    }
  });

  it('stays silent when not logged in', async () => {
    const result = await harness.run(['__complete', 'resources']);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('');
  });
});
