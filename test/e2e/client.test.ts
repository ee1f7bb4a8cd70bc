import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launcherPath } from '../../src/cli/package-root.js';
import { canConnect, freePort, startE2eWorld, stopAgent, type DatabaseIdentity, type E2eWorld } from '../helpers/e2e-world.js';

let world: E2eWorld;
let primary: DatabaseIdentity;
let secondary: DatabaseIdentity;

async function addResource(name: string, identity: DatabaseIdentity, extra: string[] = []): Promise<void> {
  const run = await world.sdm([
    'resource', 'add', 'azure-postgres-mi', name,
    '--hostname', '127.0.0.1',
    '--port', String(world.postgres.port),
    '--database', identity.database,
    '--username', identity.role,
    '--client-id', identity.clientId,
    '--ca-file', path.join(world.home, '..', 'postgres-ca.pem'),
    ...extra,
  ]);
  expect(run.stderr).toBe(run.code === 0 ? run.stderr : '');
  expect(run.code).toBe(0);
}

/** Runs a shell line with sdm on PATH as `sdm`, in the world's environment. */
function shell(line: string): { code: number; stdout: string; stderr: string } {
  const bin = path.join(path.dirname(world.home), 'bin');
  fs.mkdirSync(bin, { recursive: true });
  if (!fs.existsSync(path.join(bin, 'sdm'))) {
    fs.symlinkSync(launcherPath(), path.join(bin, 'sdm'));
  }
  const result = spawnSync('bash', ['-c', line], { env: { ...world.env, PATH: `${bin}:${world.env.PATH}` }, encoding: 'utf8', timeout: 60_000 });
  world.transcript.push(`$ ${line}\n${result.stdout}${result.stderr}`);
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

interface StatusEntry {
  name: string;
  connected: boolean;
  address: string | null;
}

async function status(): Promise<StatusEntry[]> {
  const run = await world.sdm(['status', '--json']);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as StatusEntry[];
}

async function connectedPort(name: string): Promise<number> {
  const entry = (await status()).find((candidate) => candidate.name === name);
  expect(entry?.connected).toBe(true);
  return Number(entry!.address!.split(':').pop());
}

beforeAll(async () => {
  world = await startE2eWorld();
  fs.writeFileSync(path.join(world.home, '..', 'postgres-ca.pem'), world.postgres.caPem);
  primary = await world.addIdentity();
  secondary = await world.addIdentity();
});

afterAll(async () => {
  await world?.close();
});

describe('sdm client end to end', () => {
  it('refuses a wrong fingerprint', async () => {
    const wrong = 'AA:'.repeat(31) + 'AA';
    const run = await world.sdm(['login', '--gateway', `127.0.0.1:${world.nodePort}`, '--fingerprint', wrong, '--token-stdin'], { input: world.adminToken });

    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(/^error: /);
    expect(run.stderr).toContain(wrong);
    expect(run.stderr).toContain(world.fingerprint);
  });

  it('refuses a wrong token at login', async () => {
    const run = await world.sdm(['login', '--gateway', `127.0.0.1:${world.nodePort}`, '--fingerprint', world.fingerprint, '--token-stdin'], {
      input: 'sdm_this-token-is-wrong',
    });

    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: /);
  });

  it('reports not logged in', async () => {
    const run = await world.sdm(['status']);

    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: /);
    expect(run.stderr).toContain('sdm login');
  });

  it('logs in with a pinned fingerprint', async () => {
    const run = await world.sdm(['login', '--gateway', `127.0.0.1:${world.nodePort}`, '--fingerprint', world.fingerprint, '--token-stdin'], { input: world.adminToken });

    expect(run.code).toBe(0);
    const credentials = path.join(world.home, 'credentials');
    if (fs.existsSync(credentials)) {
      expect(fs.statSync(credentials).mode & 0o777).toBe(0o600);
    }
    expect(fs.statSync(world.home).mode & 0o777).toBe(0o700);
  });

  it('adds resources and lists them', async () => {
    await addResource('pg-primary', primary, ['--tags', 'env=prod,team=data']);
    await addResource('pg-secondary', secondary, ['--tags', 'env=dev']);

    const list = await world.sdm(['resource', 'list', '--json']);
    expect(list.code).toBe(0);
    const names = (JSON.parse(list.stdout) as Array<{ name: string }>).map((resource) => resource.name);
    expect(names).toContain('pg-primary');
    expect(names).toContain('pg-secondary');

    const filtered = await world.sdm(['status', '--json', '--filter', 'tags:env=prod']);
    expect((JSON.parse(filtered.stdout) as StatusEntry[]).map((entry) => entry.name)).toEqual(['pg-primary']);
  });

  it('connects so that psql "$PGDATABASE" works', () => {
    const result = shell('eval "$(sdm connect pg-primary --env)" && psql "$PGDATABASE" -X -A -t -c "SELECT current_user || \' \' || current_database()"');

    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(`${primary.role} ${primary.database}`);
  });

  it('shows the resource connected in status', async () => {
    const entry = (await status()).find((candidate) => candidate.name === 'pg-primary');

    expect(entry?.connected).toBe(true);
    expect(entry?.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('reads status through the agent', async () => {
    const agentLog = path.join(world.home, 'agent.log');
    const relayed = (): string[] => fs.readFileSync(agentLog, 'utf8').split('\n').filter((line) => line.includes('node request for the CLI'));
    const before = relayed().length;
    await status();
    const after = relayed();

    expect(after.length).toBe(before + 1);
    expect(JSON.parse(after.at(-1)!)).toMatchObject({ path: '/v1/resources', status: 200 });
  });

  it('restores the CA variable for the command', () => {
    const result = shell(`NODE_EXTRA_CA_CERTS=/nonexistent/extra.pem sdm connect pg-primary -- sh -c 'echo "$NODE_EXTRA_CA_CERTS \${SDM_CALLER_NODE_EXTRA_CA_CERTS-none}"'`);

    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('/nonexistent/extra.pem none');
  });

  it('returns the command exit code', () => {
    const ok = shell('sdm connect pg-primary -- psql -X -A -t -c "SELECT 40 + 2"');
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe('42');

    const failing = shell('sdm connect pg-primary -- psql -X -v ON_ERROR_STOP=1 -c "SELECT no_such_column"');
    expect(failing.code).toBe(1);

    const custom = shell('sdm connect pg-primary -- sh -c "exit 7"');
    expect(custom.code).toBe(7);
  });

  it('gives two resources two ports', async () => {
    const run = await world.sdm(['connect', 'pg-secondary']);
    expect(run.code).toBe(0);

    const first = await connectedPort('pg-primary');
    const second = await connectedPort('pg-secondary');
    expect(first).not.toBe(second);
  });

  it('frees the port on disconnect', async () => {
    const port = await connectedPort('pg-secondary');
    const run = await world.sdm(['disconnect', 'pg-secondary']);

    expect(run.code).toBe(0);
    expect(await canConnect(port)).toBe(false);
    const entry = (await status()).find((candidate) => candidate.name === 'pg-secondary');
    expect(entry?.connected).toBe(false);
  });

  it('listens again after an agent restart', async () => {
    const port = await connectedPort('pg-primary');
    stopAgent(world.home);
    for (let attempt = 0; attempt < 50 && (await canConnect(port)); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await canConnect(port)).toBe(false);

    const restart = await world.sdm(['connect', 'pg-secondary']);
    expect(restart.code).toBe(0);
    expect(await connectedPort('pg-primary')).toBe(port);
    const result = shell('eval "$(sdm connect pg-primary --env)" && psql "$PGDATABASE" -X -A -t -c "SELECT 1"');
    expect(result.code).toBe(0);
  });

  it('refuses a port that is taken', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '0.0.0.0', () => resolve()));
    try {
      await addResource('pg-taken', primary, ['--port-override', String(port)]);
      const run = await world.sdm(['connect', 'pg-taken']);

      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/^error: /);
      expect(run.stderr).toContain('pg-taken');
      expect(run.stderr).toContain(String(port));
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('rejects an unknown resource name', async () => {
    const run = await world.sdm(['connect', 'no-such-resource']);

    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^error: /);
  });

  it('prints no token anywhere', () => {
    const agentLog = path.join(world.home, 'agent.log');
    // `gateway init` prints the admin token once, by design; everything else must not.
    const outputs = world.transcript.filter((entry) => !entry.startsWith('$ sdm gateway init'));
    const everything = [...outputs, world.nodeOutput(), fs.existsSync(agentLog) ? fs.readFileSync(agentLog, 'utf8') : ''].join('\n');

    expect(everything.length).toBeGreaterThan(0);
    expect(everything.includes(world.adminToken)).toBe(false);
  });
});
