import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/demo/embedded-postgres.js';
import { startE2eWorld, stopAgent, type DatabaseIdentity, type E2eWorld } from '../helpers/e2e-world.js';
import { tempDir } from '../helpers/postgres.js';

let world: E2eWorld;
let identity: DatabaseIdentity;
let aliceHome: string;
let aliceToken: string;
let caFile: string;

const asAlice = () => ({ env: { SDM_HOME: aliceHome } });

async function addResource(name: string, tags: string): Promise<void> {
  const run = await world.sdm([
    'resource', 'add', 'azure-postgres-mi', name,
    '--hostname', '127.0.0.1', '--port', String(world.postgres.port),
    '--database', identity.database, '--username', identity.role, '--client-id', identity.clientId,
    '--ca-file', caFile, '--tags', tags,
  ]);
  expect(run.stderr).not.toContain('error:');
  expect(run.code).toBe(0);
}

async function visibleToAlice(): Promise<string[]> {
  const run = await world.sdm(['status', '--json'], asAlice());
  expect(run.code).toBe(0);
  return (JSON.parse(run.stdout) as Array<{ name: string }>).map((entry) => entry.name).sort();
}

async function eventually<T>(probe: () => Promise<T | undefined>, attempts = 60): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`condition not met after ${attempts} attempts`);
}

beforeAll(async () => {
  world = await startE2eWorld();
  caFile = path.join(world.home, '..', 'postgres-ca.pem');
  fs.writeFileSync(caFile, world.postgres.caPem);
  identity = await world.addIdentity();
  aliceHome = path.join(world.home, '..', 'alice-home');

  const login = await world.sdm(['login', '--gateway', `127.0.0.1:${world.nodePort}`, '--fingerprint', world.fingerprint, '--token-stdin'], { input: world.adminToken });
  expect(login.code).toBe(0);
  await addResource('data-prod', 'team=data,env=prod');
  await addResource('billing-prod', 'team=billing');
});

afterAll(async () => {
  if (aliceHome) {
    await world.sdm(['disconnect', '--all'], asAlice()).catch(() => undefined);
    stopAgent(aliceHome);
  }
  await world?.close();
});

describe('users, roles and audit logs', () => {
  it('creates a user whose token is printed once', async () => {
    const run = await world.sdm(['user', 'add', 'alice@example.com', '--json']);

    expect(run.code).toBe(0);
    aliceToken = (JSON.parse(run.stdout) as { token: string }).token;
    expect(aliceToken.length).toBeGreaterThan(40);
    const list = await world.sdm(['user', 'list', '--json']);
    expect(list.stdout).toContain('alice@example.com');
    expect(list.stdout).not.toContain(aliceToken);
  });

  it('hides and refuses resources without a grant', async () => {
    const login = await world.sdm(['login', '--gateway', `127.0.0.1:${world.nodePort}`, '--fingerprint', world.fingerprint, '--token-stdin'], {
      input: aliceToken,
      ...asAlice(),
    });
    expect(login.code).toBe(0);

    expect(await visibleToAlice()).toEqual([]);
    const connect = await world.sdm(['connect', 'data-prod'], asAlice());
    expect(connect.code).toBe(4);
  });

  it('lets a non-admin do no admin work', async () => {
    const run = await world.sdm(['user', 'list'], asAlice());

    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: /);
  });

  it('grants by tag, also for resources tagged later', async () => {
    expect((await world.sdm(['role', 'add', 'data-readers'])).code).toBe(0);
    expect((await world.sdm(['role', 'grant', 'data-readers', '--tags', 'team=data'])).code).toBe(0);
    expect((await world.sdm(['role', 'assign', 'data-readers', 'alice@example.com'])).code).toBe(0);

    expect(await visibleToAlice()).toEqual(['data-prod']);

    await addResource('data-staging', 'env=staging');
    expect(await visibleToAlice()).toEqual(['data-prod']);
    expect((await world.sdm(['resource', 'update', 'data-staging', '--tags', 'env=staging,team=data'])).code).toBe(0);
    expect(await visibleToAlice()).toEqual(['data-prod', 'data-staging']);

    const roles = await world.sdm(['role', 'list', '--json']);
    expect(roles.stdout).toContain('team=data');
  });

  it('logs statements from psql and pgbench with user and resource', async () => {
    const connect = await world.sdm(['connect', 'data-prod', '--json'], asAlice());
    expect(connect.code).toBe(0);
    const env = { ...process.env, ...connectionEnv(connect.stdout) };

    const psql = spawnSync('psql', ['-X', '-A', '-t', '-c', 'SELECT 101 AS audit_probe_psql'], { env, encoding: 'utf8' });
    expect(psql.status).toBe(0);

    const script = path.join(tempDir(), 'probe.sql');
    fs.writeFileSync(script, 'SELECT 202 AS audit_probe_pgbench;\n');
    const pgbench = spawnSync('pgbench', ['-n', '-t', '3', '-M', 'extended', '-f', script], { env, encoding: 'utf8' });
    expect(pgbench.stderr).not.toMatch(/error/i);
    expect(pgbench.status).toBe(0);

    const records = await eventually(async () => {
      const run = await world.sdm(['logs', 'queries', '--resource', 'data-prod', '--user', 'alice@example.com', '--json']);
      const parsed = JSON.parse(run.stdout) as Array<{ text: string; protocol: string; user: string; resource: string }>;
      return parsed.some((record) => record.text.includes('audit_probe_pgbench')) && parsed.some((record) => record.text.includes('audit_probe_psql'))
        ? parsed
        : undefined;
    });
    const fromPsql = records.find((record) => record.text.includes('audit_probe_psql'))!;
    const fromPgbench = records.find((record) => record.text.includes('audit_probe_pgbench'))!;
    expect(fromPsql.protocol).toBe('simple');
    expect(fromPsql.user).toBe('alice@example.com');
    expect(fromPsql.resource).toBe('data-prod');
    expect(fromPgbench.protocol).toBe('extended');
  });

  it('records refused connections', async () => {
    const connect = await world.sdm(['connect', 'billing-prod'], asAlice());
    expect(connect.code).toBe(4);

    const direct = await world.sdm(['connect', 'data-prod', '--json'], asAlice());
    const env = connectionEnv(direct.stdout);
    const refused = spawnSync('psql', ['-X', '-c', 'SELECT 1'], { env: { ...process.env, ...env, PGPORT: env.PGPORT, PGDATABASE: 'not_allowed_db' }, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);

    const records = await eventually(async () => {
      const run = await world.sdm(['logs', 'connections', '--user', 'alice@example.com', '--json']);
      const parsed = JSON.parse(run.stdout) as Array<{ outcome: string; resource: string; error: string | null }>;
      return parsed.some((record) => record.outcome === 'closed') ? parsed : undefined;
    });
    expect(records.some((record) => record.outcome === 'closed' && record.resource === 'data-prod')).toBe(true);
  });

  it('closes open sessions on revoke and refuses the next', async () => {
    const connect = await world.sdm(['connect', 'data-prod', '--json'], asAlice());
    const env = connectionEnv(connect.stdout);
    const client = new pg.Client({ host: env.PGHOST, port: Number(env.PGPORT), database: env.PGDATABASE, user: env.PGUSER });
    const ended = new Promise<Error>((resolve) => client.on('error', resolve));
    await client.connect();
    expect((await client.query('SELECT 1 AS alive')).rows[0].alive).toBe(1);

    const revoke = await world.sdm(['role', 'revoke', 'data-readers', '--tags', 'team=data']);
    expect(revoke.code).toBe(0);

    const error = (await ended) as Error & { code?: string };
    expect(error.message).toContain('revoked');
    expect(error.code).toBe('57P01');
    const next = spawnSync('psql', ['-X', '-c', 'SELECT 1'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(next.status).not.toBe(0);
    expect(next.stderr).toContain('data-prod');
    await client.end().catch(() => undefined);
  });

  it('shows no token in any log', async () => {
    const logs = await world.sdm(['logs', 'connections', '--json']);
    const agentLogs = [world.home, aliceHome].map((home) => path.join(home, 'agent.log')).filter((file) => fs.existsSync(file));
    const everything = [logs.stdout, ...world.transcript.filter((entry) => !entry.startsWith('$ sdm user add') && !entry.startsWith('$ sdm gateway init')), world.nodeOutput(), ...agentLogs.map((file) => fs.readFileSync(file, 'utf8'))].join('\n');

    expect(everything.includes(world.adminToken)).toBe(false);
    expect(everything.includes(aliceToken)).toBe(false);
  });
});

describe('health checks', () => {
  let server: EmbeddedPostgres;

  beforeAll(async () => {
    server = await startEmbeddedPostgres();
    const clientId = crypto.randomUUID();
    await server.createLoginRole('health_role', { password: crypto.randomBytes(12).toString('hex'), auth: 'password', database: 'health_db' });
    world.onToken(clientId, (token) => server.setPassword('health_role', token, 'password'));
    const pem = path.join(tempDir(), 'health-ca.pem');
    fs.writeFileSync(pem, server.caPem);
    const add = await world.sdm([
      'resource', 'add', 'azure-postgres-mi', 'health-target',
      '--hostname', '127.0.0.1', '--port', String(server.port), '--database', 'health_db',
      '--username', 'health_role', '--client-id', clientId, '--ca-file', pem,
    ]);
    expect(add.code).toBe(0);
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function healthcheck(): Promise<{ state: string; error: string | null }> {
    const run = await world.sdm(['resource', 'healthcheck', 'health-target', '--json']);
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as { state: string; error: string | null };
  }

  it('is healthy while the server is up', async () => {
    const health = await healthcheck();

    expect(health.error).toBeNull();
    expect(health.state).toBe('healthy');
  });

  it('turns unhealthy when the server is down and shows the error', async () => {
    await server.pause();
    const run = await world.sdm(['resource', 'healthcheck', 'health-target', '--json']);
    const health = JSON.parse(run.stdout) as { state: string; error: string };

    expect(health.state).toBe('unhealthy');
    expect(health.error).toContain('health-target');
    const show = await world.sdm(['resource', 'show', 'health-target']);
    expect(show.stdout).toContain('unhealthy');
    await server.resume();
  });

  it('turns healthy again when the server is back', async () => {
    const health = await healthcheck();

    expect(health.state).toBe('healthy');
    const list = await world.sdm(['resource', 'list', '--json']);
    const entry = (JSON.parse(list.stdout) as Array<{ name: string; health: { state: string } }>).find((resource) => resource.name === 'health-target');
    expect(entry?.health.state).toBe('healthy');
  });
});

function connectionEnv(stdout: string): Record<string, string> {
  const parsed = JSON.parse(stdout) as { env: Record<string, string> } | Array<{ env: Record<string, string> }>;
  return Array.isArray(parsed) ? parsed[0].env : parsed.env;
}
