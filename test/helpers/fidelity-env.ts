// A node with one resource on a real PostgreSQL server and one local tunnel
// to it, for the protocol fidelity tests. Each token the emulator issues
// becomes the role's password, so the server accepts a login only with the
// newest token the node fetched, much as Azure accepts only a valid token.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';

import pg from 'pg';

import type { LoginAuth, LoginRoleOptions } from '../../src/demo/login-roles.js';
import { resourceBody, startTestNode, type LocalTunnel, type TestNode } from './node-harness.js';
import { sharedPostgres, uniqueName } from './postgres.js';

/** What the fidelity tests need from a server: the shared one or one a test file starts. */
export interface FidelityServer {
  port: number;
  caPem: string;
  adminQuery(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  createLoginRole(name: string, options: LoginRoleOptions): Promise<void>;
  setPassword(name: string, password: string, auth: LoginAuth): Promise<void>;
}

export interface FidelityEnvOptions {
  /** The server to use; the shared test server when absent. */
  server?: FidelityServer;
  tokenLifetimeSeconds?: number;
  /** Grants the resource's role the REPLICATION attribute. */
  replication?: boolean;
}

export interface FidelityEnv {
  server: FidelityServer;
  node: TestNode;
  tunnel: LocalTunnel;
  clientId: string;
  role: string;
  database: string;
  /** Settings for a pg Client that connects through the tunnel. */
  pgConfig(extra?: pg.ClientConfig): pg.ClientConfig;
  /** Connects a pg Client through the tunnel; its 'error' events are ignored. */
  connect(extra?: pg.ClientConfig): Promise<pg.Client>;
  /** libpq environment variables for psql and pg_dump to reach the tunnel. */
  libpqEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export const RESOURCE_NAME = 'fidelity';

const AUTH: LoginAuth = 'password';

/** Starts a node, creates a role and its database, registers the resource and opens a tunnel. */
export async function startFidelityEnv(options: FidelityEnvOptions = {}): Promise<FidelityEnv> {
  const server = options.server ?? (await sharedPostgres());
  const clientId = crypto.randomUUID();
  const role = uniqueName('fid');
  const database = uniqueName('fiddb');

  await server.createLoginRole(role, { password: crypto.randomBytes(16).toString('hex'), auth: AUTH, database });
  if (options.replication) {
    await server.adminQuery(`ALTER ROLE ${pg.escapeIdentifier(role)} REPLICATION`);
  }

  const node = await startTestNode({
    identities: [clientId],
    tokenLifetimeSeconds: options.tokenLifetimeSeconds,
    onIssue: (issuedFor, token) => (issuedFor.toLowerCase() === clientId ? server.setPassword(role, token, AUTH) : undefined),
  });
  const answer = await node.api(
    'POST',
    '/v1/resources',
    resourceBody({ name: RESOURCE_NAME, port: server.port, database, username: role, clientId, caPem: server.caPem }),
  );
  if (answer.status !== 201) {
    throw new Error(`adding resource ${RESOURCE_NAME} failed with HTTP ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  const tunnel = await node.tunnel(RESOURCE_NAME);

  const pgConfig = (extra: pg.ClientConfig = {}): pg.ClientConfig => ({ host: '127.0.0.1', port: tunnel.port, user: 'anyone', database, ssl: false, ...extra });
  return {
    server,
    node,
    tunnel,
    clientId,
    role,
    database,
    pgConfig,
    connect: async (extra) => {
      const client = new pg.Client(pgConfig(extra));
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    libpqEnv: (extra = {}) => ({ ...process.env, PGHOST: '127.0.0.1', PGPORT: String(tunnel.port), PGUSER: 'anyone', PGDATABASE: database, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '10', ...extra }),
    close: () => node.close(),
  };
}

export interface ProgramResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunProgramOptions {
  env: NodeJS.ProcessEnv;
  /** Kills the program with SIGKILL after this long, so a hang fails the test instead of stalling it. */
  timeoutMs: number;
  /** Called once the program has started, with its process. */
  onSpawn?(child: import('node:child_process').ChildProcess): void;
}

/** Runs a program to completion and collects its output. It never rejects for a non-zero exit. */
export function runProgram(command: string, args: string[], options: RunProgramOptions): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';

    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    options.onSpawn?.(child);
  });
}

/** Calls `probe` until it returns a value other than undefined, at most `attempts` times, `intervalMs` apart. */
export async function eventually<T>(probe: () => Promise<T | undefined>, attempts = 100, intervalMs = 100): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`condition not met after ${attempts} attempts ${intervalMs} ms apart`);
}

/** Counts the server backends whose application_name is `name`. */
export async function backendCount(server: FidelityServer, name: string): Promise<number> {
  const result = await server.adminQuery('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [name]);
  return result.rows[0].n as number;
}
