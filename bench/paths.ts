// The paths a client can take to the benchmark database, as libpq settings.

import type { BenchPostgres } from './postgres-setup.js';
import { BENCH_DATABASE, FIXED_ROLE } from './postgres-setup.js';

export type PathName = 'direct' | 'bare relay' | 'pgbouncer' | 'sdm' | 'sdm (audit off)';

export interface ClientPath {
  name: PathName;
  /** libpq environment: PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE and, except through sdm, PGPASSWORD. */
  env: Record<string, string>;
}

/** PostgreSQL requires TLS, so the direct and bare relay paths carry the client's own TLS to it. */
export function fixedRolePath(name: PathName, port: number, postgres: BenchPostgres, sslmode: 'require' | 'disable'): ClientPath {
  return {
    name,
    env: { PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: FIXED_ROLE, PGPASSWORD: postgres.fixedPassword, PGDATABASE: BENCH_DATABASE, PGSSLMODE: sslmode },
  };
}

/** The agent listener requests no password and replies N to SSLRequest, so the client sends plain bytes to it. */
export function sdmPath(name: PathName, listenerPort: number): ClientPath {
  return {
    name,
    env: { PGHOST: '127.0.0.1', PGPORT: String(listenerPort), PGUSER: 'bench', PGDATABASE: BENCH_DATABASE, PGSSLMODE: 'disable' },
  };
}
