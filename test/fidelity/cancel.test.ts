import type { ChildProcess } from 'node:child_process';

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, runProgram, startFidelityEnv, type FidelityEnv } from '../helpers/fidelity-env.js';

/** Bound on the psql run; the statement sleeps far longer, so only a cancel ends it in time. */
const PSQL_TIMEOUT_MS = 30_000;

const QUERY_CANCELED = '57014';

let env: FidelityEnv;

beforeAll(async () => {
  env = await startFidelityEnv();
});

afterAll(async () => {
  await env?.close();
});

/** Waits until a backend with this application_name is running pg_sleep, and returns its pid. */
function sleepingBackend(applicationName: string): Promise<number> {
  return eventually(async () => {
    const result = await env.server.adminQuery(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE '%pg_sleep%'",
      [applicationName],
    );
    return result.rows[0]?.pid as number | undefined;
  });
}

describe('cancel', () => {
  it('postgres query.cancel() stops the statement', async () => {
    const sql = postgres({ host: '127.0.0.1', port: env.tunnel.port, user: 'anyone', database: env.database, ssl: false, max: 1, connection: { application_name: 'fid-cancel-postgres' }, onnotice: () => undefined });
    try {
      const query = sql`SELECT pg_sleep(60)`;
      const outcome = query.then(
        () => undefined,
        (error: { code?: string }) => error,
      );
      await sleepingBackend('fid-cancel-postgres');
      query.cancel();

      const error = await outcome;
      expect(error?.code).toBe(QUERY_CANCELED);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('pg_cancel_backend from a second pg client stops the statement', async () => {
    const sleeper = await env.connect({ application_name: 'fid-cancel-pg' });
    const canceller = await env.connect();
    try {
      const outcome = sleeper.query('SELECT pg_sleep(60)').then(
        () => undefined,
        (error: { code?: string }) => error,
      );
      const pid = await sleepingBackend('fid-cancel-pg');
      const cancelled = await canceller.query('SELECT pg_cancel_backend($1) AS ok', [pid]);

      expect(cancelled.rows[0].ok).toBe(true);
      const error = await outcome;
      expect(error?.code).toBe(QUERY_CANCELED);
    } finally {
      await sleeper.end();
      await canceller.end();
    }
  });

  it('psql SIGINT stops the statement', async () => {
    let child: ChildProcess | undefined;
    const run = runProgram('psql', ['-X', '-c', 'SELECT pg_sleep(60)'], {
      env: env.libpqEnv({ PGAPPNAME: 'fid-cancel-psql' }),
      timeoutMs: PSQL_TIMEOUT_MS,
      onSpawn: (spawned) => (child = spawned),
    });
    await sleepingBackend('fid-cancel-psql');
    child!.kill('SIGINT');

    const result = await run;
    expect(result.signal).toBeNull();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('canceling statement due to user request');
  });
});
