// The PostgreSQL side of the benchmark: the embedded server with room for
// the idle-connection test, the database, and two login roles with the same
// grants. The `bench_mi_*` roles sign in through sdm with the token the
// emulator issues, one role per node because each node fetches its own token
// and the emulator sets the role's password to it. `bench_fixed` has a fixed
// password for the direct, relay and pgbouncer paths.

import { randomBytes, randomUUID } from 'node:crypto';

import pg from 'pg';

import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/demo/embedded-postgres.js';
import { createFakeToken } from '../src/emulator/fake-token.js';
import { POSTGRES_SCOPE } from '../src/identity/token-source.js';
import { runToEnd } from './child-process.js';

export const BENCH_DATABASE = 'benchdb';
/** Roles of the audit-on and the audit-off node. */
export const TOKEN_ROLES = ['bench_mi_audit_on', 'bench_mi_audit_off'] as const;
export const FIXED_ROLE = 'bench_fixed';
export const COPY_TABLE = 'bench_copy';

/** Room for 500 idle connections through sdm, 8 pgbench clients and the admin pool. */
export const MAX_SERVER_CONNECTIONS = 620;

/** pgbench scale factor: 400,000 rows in pgbench_accounts. */
export const PGBENCH_SCALE = 4;

/** The resource a managed-identity token for PostgreSQL names: the scope without `/.default`. */
const POSTGRES_RESOURCE = POSTGRES_SCOPE.replace(/\/\.default$/, '');

const PGBENCH_INIT_TIMEOUT_MS = 120_000;

export interface BenchPostgres {
  server: EmbeddedPostgres;
  fixedPassword: string;
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const server = await startEmbeddedPostgres({});
  try {
    await server.adminQuery(`ALTER SYSTEM SET max_connections = ${MAX_SERVER_CONNECTIONS}`);
    await server.pause();
    await server.resume();

    const fixedPassword = passwordOfTokenLength();
    for (const role of TOKEN_ROLES) {
      await server.createLoginRole(role, { password: randomBytes(18).toString('base64url'), auth: 'password', database: BENCH_DATABASE });
    }
    await server.createLoginRole(FIXED_ROLE, { password: fixedPassword, auth: 'password', database: BENCH_DATABASE });
    await initialiseTables(server);
    return { server, fixedPassword };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * Returns a random password as long as the tokens the emulator issues. The
 * server checks either against its SCRAM verifier, which keys an HMAC with
 * the password in each of 4096 iterations (scram_SaltedPassword in
 * PostgreSQL's src/common/scram-common.c), and HMAC first hashes a key
 * longer than SHA-256's 64-byte block. So a 526-character password cost 1.2
 * ms more per sign-in here than a 24-character one. With equal lengths,
 * every path gives the server the same work, and only the proxies differ.
 */
function passwordOfTokenLength(): string {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const token = createFakeToken({ clientId: randomUUID(), resource: POSTGRES_RESOURCE, issuedAtSeconds: nowSeconds, expiresAtSeconds: nowSeconds + 3600 });
  return randomBytes(token.length).toString('base64url').slice(0, token.length);
}

/** Creates the pgbench tables and the COPY table as the superuser, then grants them to both roles. */
async function initialiseTables(server: EmbeddedPostgres): Promise<void> {
  const init = await runToEnd('pgbench', ['-i', '-q', '-s', String(PGBENCH_SCALE), BENCH_DATABASE], {
    env: { ...process.env, ...adminEnv(server) },
    timeoutMs: PGBENCH_INIT_TIMEOUT_MS,
  });
  if (init.code !== 0) {
    throw new Error(`pgbench -i exited with ${init.code}: ${init.stderr.trim()}`);
  }

  const client = new pg.Client({ host: server.host, port: server.port, user: server.adminUser, password: server.adminPassword, database: BENCH_DATABASE, ssl: { ca: server.caPem } });
  await client.connect();
  try {
    await client.query(`CREATE UNLOGGED TABLE ${COPY_TABLE} (id bigint, payload text)`);
    await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO ${TOKEN_ROLES.join(', ')}, ${FIXED_ROLE}`);
  } finally {
    await client.end();
  }
}

/** libpq settings for the superuser, for setup steps only. */
export function adminEnv(server: EmbeddedPostgres): Record<string, string> {
  return {
    PGHOST: server.host,
    PGPORT: String(server.port),
    PGUSER: server.adminUser,
    PGPASSWORD: server.adminPassword,
    PGDATABASE: BENCH_DATABASE,
    PGSSLMODE: 'require',
  };
}
