import type pg from 'pg';
import { serialize } from 'pg-protocol';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startFidelityEnv, type FidelityEnv } from '../helpers/fidelity-env.js';
import { rawConnect, startupMessage, TERMINATE } from '../helpers/raw-pg.js';

/** Queries sent on one connection before the first result is read. */
const PIPELINED_QUERIES = 50;

let env: FidelityEnv;

beforeAll(async () => {
  env = await startFidelityEnv();
});

afterAll(async () => {
  await env?.close();
});

describe('extended protocol', () => {
  it('pipelines named prepared statements with postgres', async () => {
    const sql = postgres({ host: '127.0.0.1', port: env.tunnel.port, user: 'anyone', database: env.database, ssl: false, max: 1, prepare: true });
    try {
      const numbers = Array.from({ length: PIPELINED_QUERIES }, (_, index) => index);
      const results = await Promise.all(numbers.map((number) => sql`SELECT ${number}::int * 2 AS doubled`));
      const prepared = await sql`SELECT count(*)::int AS n FROM pg_prepared_statements`;

      expect(results.map((rows) => rows[0].doubled)).toEqual(numbers.map((number) => number * 2));
      expect(prepared[0].n).toBeGreaterThan(0);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('reuses a named statement with pg', async () => {
    const client = await env.connect();
    try {
      const first = await client.query({ name: 'fid_named', text: 'SELECT $1::int + 1 AS n', values: [1] });
      const second = await client.query({ name: 'fid_named', text: 'SELECT $1::int + 1 AS n', values: [41] });
      const prepared = await client.query("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = 'fid_named'");

      expect(first.rows[0].n).toBe(2);
      expect(second.rows[0].n).toBe(42);
      expect(prepared.rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('sends binary parameters', async () => {
    const client = await env.connect();
    try {
      const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff]);
      const echoed = await client.query('SELECT $1::bytea AS b', [bytes]);
      const added = await client.query('SELECT $1::int4 + 1 AS n', [Buffer.from([0, 0, 0, 41])]);

      expect(Buffer.compare(echoed.rows[0].b, bytes)).toBe(0);
      expect(added.rows[0].n).toBe(42);
    } finally {
      await client.end();
    }
  });

  it('returns binary results', async () => {
    const client = await env.connect();
    try {
      // pg accepts `binary` at run time, and its type definitions leave it out.
      const config: pg.QueryConfig & { binary: boolean } = { text: 'SELECT 42::int4 AS n, $1::text AS t', values: ['binary'], binary: true };
      const result = await client.query(config);

      expect(result.fields.map((field) => field.format)).toEqual(['binary', 'binary']);
      expect(result.rows[0].n).toBe(42);
      expect(Buffer.from(result.rows[0].t).toString('utf8')).toBe('binary');
    } finally {
      await client.end();
    }
  });

  it('suspends a portal at its row limit', async () => {
    const connection = await rawConnect(env.tunnel.port);
    connection.send(startupMessage({ user: 'anyone', database: env.database }));
    await connection.waitFor('Z');

    connection.send(
      Buffer.concat([
        serialize.parse({ text: 'SELECT n FROM generate_series(1, 5) AS n' }),
        serialize.bind({ portal: 'fid_portal' }),
        serialize.execute({ portal: 'fid_portal', rows: 2 }),
        serialize.flush(),
      ]),
    );
    const firstRows = [await connection.waitFor('D'), await connection.waitFor('D')];
    const firstEnd = await connection.waitFor('sC');
    connection.send(Buffer.concat([serialize.execute({ portal: 'fid_portal', rows: 0 }), serialize.sync()]));
    const restRows = [await connection.waitFor('D'), await connection.waitFor('D'), await connection.waitFor('D')];
    const restEnd = await connection.waitFor('sC');
    await connection.waitFor('Z');

    const value = (row: { body: Buffer }) => row.body.subarray(6).toString('utf8');
    expect(firstRows.map(value)).toEqual(['1', '2']);
    expect(firstEnd.code).toBe('s');
    expect(restRows.map(value)).toEqual(['3', '4', '5']);
    expect(restEnd.code).toBe('C');
    connection.send(TERMINATE);
    connection.close();
  });
});
