import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/demo/embedded-postgres.js';
import { runProgram, startFidelityEnv, type FidelityEnv } from '../helpers/fidelity-env.js';
import { clientMajorVersion, IN_CI } from '../helpers/fidelity-tools.js';
import { tempDir } from '../helpers/postgres.js';

/** Bound on one pg_dump or pg_restore run. */
const TOOL_TIMEOUT_MS = 60_000;

/** Parallel jobs, each on its own connection through the tunnel. */
const JOBS = '4';

/** Tables in the dumped database, so that four jobs have work to share. */
const TABLE_COUNT = 8;

let env: FidelityEnv;
let server: EmbeddedPostgres | undefined;
const dumpMajor = clientMajorVersion('pg_dump') ?? 0;
const restoreMajor = clientMajorVersion('pg_restore') ?? 0;

/**
 * pg_dump refuses a server of a newer major version than its own, and the
 * embedded PostgreSQL may be newer than the distribution's client. So this
 * test runs its own server from the distribution's binaries of pg_dump's
 * major version (Debian's postgresql-NN package), which `.ci/run` installs.
 */
const serverBinDir = `/usr/lib/postgresql/${dumpMajor}/bin`;
const serverAvailable = fs.existsSync(path.join(serverBinDir, 'postgres')) && fs.existsSync(path.join(serverBinDir, 'initdb'));

beforeAll(async () => {
  if (!serverAvailable) {
    return;
  }
  server = await startEmbeddedPostgres({ binaries: { initdb: path.join(serverBinDir, 'initdb'), postgres: path.join(serverBinDir, 'postgres') } });
  env = await startFidelityEnv({ server });
});

afterAll(async () => {
  await env?.close();
  await server?.stop();
});

describe('pg_dump and pg_restore', () => {
  it.runIf(IN_CI)('CI has a server matching pg_dump', () => {
    expect(dumpMajor).toBeGreaterThan(0);
    expect(restoreMajor).toBe(dumpMajor);
    expect(serverAvailable, `no PostgreSQL ${dumpMajor} server binaries in ${serverBinDir}; install postgresql-${dumpMajor}`).toBe(true);
  });

  it.runIf(serverAvailable)('dumps and restores with 4 jobs', async () => {
    const client = await env.connect();
    for (let table = 0; table < TABLE_COUNT; table += 1) {
      await client.query(`CREATE TABLE fid_dump_${table} (id int PRIMARY KEY, body text)`);
      await client.query(`INSERT INTO fid_dump_${table} SELECT n, repeat('r', 100) FROM generate_series(1, 1000) AS n`);
    }
    await client.end();

    const directory = path.join(tempDir('sdm-fid-dump-'), 'dump');

    // The role may reach only its own database on this server, so the dump is restored into it after the tables are dropped.
    const dump = await runProgram('pg_dump', ['-Fd', '-j', JOBS, '-f', directory, '--no-owner'], { env: env.libpqEnv(), timeoutMs: TOOL_TIMEOUT_MS });
    const dropper = await env.connect();
    for (let table = 0; table < TABLE_COUNT; table += 1) {
      await dropper.query(`DROP TABLE fid_dump_${table}`);
    }
    await dropper.end();
    const restore = await runProgram('pg_restore', ['-j', JOBS, '--no-owner', '-d', env.database, directory], { env: env.libpqEnv(), timeoutMs: TOOL_TIMEOUT_MS });
    const restored = await env.connect();
    const counts = await restored.query(`SELECT ${Array.from({ length: TABLE_COUNT }, (_, table) => `(SELECT count(*) FROM fid_dump_${table})`).join(' + ')} AS total`);
    await restored.end();

    expect(dump.stderr).toBe('');
    expect(dump.status).toBe(0);
    expect(restore.stderr).toBe('');
    expect(restore.status).toBe(0);
    expect(Number(counts.rows[0].total)).toBe(TABLE_COUNT * 1000);
  });
});
