import net from 'node:net';

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { saveState } from '../../src/agent/state-file.js';
import { ExitCode } from '../../src/exit-codes.js';
import { createHarness, loginTo, type Harness } from './cli-harness.js';
import { ADMIN_TOKEN, resourceView, startFakeAdminNode, type FakeAdminNode } from './fake-admin-node.js';

let node: FakeAdminNode;
let harness: Harness;
const env = { SDM_TOKEN: ADMIN_TOKEN };

beforeAll(async () => {
  node = await startFakeAdminNode();
  node.routes.set('GET /v1/resources', () => ({
    body: [
      resourceView('orders-prod', { tags: { env: 'prod', team: 'orders' } }),
      resourceView('orders-dev', { tags: { env: 'dev' } }),
      resourceView('billing-prod', {
        tags: { env: 'prod' },
        health: { resource: 'billing-prod', state: 'unhealthy', checkedAt: null, durationMs: null, error: 'timed out' },
      }),
    ],
  }));
});

afterAll(async () => {
  await node.close();
});

beforeEach(async () => {
  harness = await createHarness();
  await loginTo(harness.paths, node);
});

afterEach(async () => {
  await harness.remove();
});

describe('status', () => {
  it('not logged in gives AUTH', async () => {
    const fresh = await createHarness();
    const result = await fresh.run(['status']);
    await fresh.remove();
    expect(result.code).toBe(ExitCode.AUTH);
    expect(result.stderr).toContain('error: not logged in to a node');
    expect(result.stderr).toContain('hint: run sdm login --gateway HOST:PORT');
  });

  it('no token gives AUTH', async () => {
    const result = await harness.run(['status']);
    expect(result.code).toBe(ExitCode.AUTH);
    expect(result.stderr).toContain('hint: run sdm login --gateway');
  });

  it('unreachable node gives UNREACHABLE', async () => {
    await loginTo(harness.paths, { ...node, port: 9 });
    const result = await harness.run(['status'], { env });
    expect(result.code).toBe(ExitCode.UNREACHABLE);
    expect(result.stderr).toContain('error: cannot reach the sdm node at 127.0.0.1:9');
    expect(result.stderr).toContain('hint:');
  });

  it('rejected token gives AUTH', async () => {
    const result = await harness.run(['status'], { env: { SDM_TOKEN: 'revoked' } });
    expect(result.code).toBe(ExitCode.AUTH);
    expect(result.stderr).toContain('error: not logged in or token rejected');
  });

  it('json shape', async () => {
    const result = await harness.run(['status', '--json'], { env });
    expect(result.code).toBe(ExitCode.OK);
    const rows = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({
      name: 'orders-prod',
      type: 'azure-postgres-mi',
      address: null,
      connected: false,
      activeConnections: 0,
      health: { state: 'healthy', checkedAt: '2025-01-01T00:00:00.000Z', error: null },
      tags: { env: 'prod', team: 'orders' },
    });
  });

  it('shows remembered addresses', async () => {
    await saveState(harness.paths, { resources: { 'orders-dev': { name: 'orders-dev', bindIp: '127.0.0.1', port: 40123, connected: false } } });
    const result = await harness.run(['status', '--json'], { env });
    const rows = JSON.parse(result.stdout) as Array<{ name: string; address: string | null }>;
    expect(rows.find((row) => row.name === 'orders-dev')?.address).toBe('127.0.0.1:40123');
  });

  it('warns about an agent that does not respond', async () => {
    const accepted: net.Socket[] = [];
    const stuckAgent = net.createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => stuckAgent.listen(harness.paths.socket, resolve));
    try {
      const result = await harness.run(['status', '--json'], { env });

      expect(result.code).toBe(ExitCode.OK);
      expect((JSON.parse(result.stdout) as Array<{ connected: boolean }>).map((row) => row.connected)).toEqual([false, false, false]);
      expect(result.stderr).toContain('no response within 3000 ms (timed out); CONNECTED shows no listeners');
      expect(result.stderr).toContain(harness.paths.pid);
    } finally {
      accepted.forEach((socket) => socket.destroy());
      await new Promise((resolve) => stuckAgent.close(resolve));
    }
  });

  it('says nothing when no agent runs', async () => {
    const result = await harness.run(['status', '--json'], { env });

    expect(result.code).toBe(ExitCode.OK);
    expect(result.stderr).toBe('');
  });

  it('filters by tag', async () => {
    const result = await harness.run(['status', '--json', '--filter', 'tags:env=prod'], { env });
    const names = (JSON.parse(result.stdout) as Array<{ name: string }>).map((row) => row.name);
    expect(names).toEqual(['orders-prod', 'billing-prod']);
  });

  it('filters by name glob and tag', async () => {
    const result = await harness.run(['status', '--json', '--filter', 'name:orders-*,tags:env=prod'], { env });
    const names = (JSON.parse(result.stdout) as Array<{ name: string }>).map((row) => row.name);
    expect(names).toEqual(['orders-prod']);
  });

  it('rejects an option as filter value', async () => {
    const result = await harness.run(['status', '--filter', '--json'], { env });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stdout).toBe('');
    expect(JSON.parse(result.stderr)).toMatchObject({ error: { code: 'usage', message: expect.stringContaining('--filter needs a value, not the option --json') } });
  });

  it('rejects a malformed filter', async () => {
    const result = await harness.run(['status', '--filter', 'colour:red'], { env });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error:');
    expect(result.stderr).toContain('colour');
  });

  it('prints aligned plain text off a terminal', async () => {
    const result = await harness.run(['status'], { env });
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME {2,}TYPE {2,}ADDRESS {2,}CONNECTED {2,}HEALTH {2,}TAGS$/);
    expect(lines[1]).toMatch(/^orders-prod {2,}azure-postgres-mi {2,}- {2,}no {2,}healthy {2,}env=prod,team=orders$/);
    expect(lines[0].indexOf('TYPE')).toBe(lines[1].indexOf('azure-postgres-mi'));
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('draws a table on a terminal', async () => {
    const result = await harness.run(['status'], { env, tty: true });
    expect(result.stdout).toContain('┌');
    expect(result.stdout).toContain('\u001b[');
  });

  it('uses no colour with NO_COLOR', async () => {
    const result = await harness.run(['status'], { env: { ...env, NO_COLOR: '1' }, tty: true });
    expect(result.stdout).toContain('┌');
    expect(result.stdout).not.toContain('\u001b[');
  });
});
