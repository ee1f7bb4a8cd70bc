import crypto from 'node:crypto';
import { once } from 'node:events';

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, startFidelityEnv, type FidelityEnv } from '../helpers/fidelity-env.js';
import { queryMessage, rawConnect, startupMessage } from '../helpers/raw-pg.js';

/** One COPY row far larger than the 64 KiB that Node.js reads from a socket at a time, so it crosses many relay chunks. */
const LARGE_ROW_BYTES = 8 * 1024 * 1024;

/** One value larger than any single socket read or write. */
const LARGE_VALUE_BYTES = 40 * 1024 * 1024;

/** Rows of 1 MiB in the result that a paused client does not read. */
const UNREAD_RESULT_ROWS = 256;
const UNREAD_RESULT_BYTES = UNREAD_RESULT_ROWS * 1024 * 1024;

let env: FidelityEnv;
let sql: postgres.Sql;

beforeAll(async () => {
  env = await startFidelityEnv();
  sql = postgres({ host: '127.0.0.1', port: env.tunnel.port, user: 'anyone', database: env.database, ssl: false, max: 1, onnotice: () => undefined });
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await env?.close();
});

function sha256(data: Buffer | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

describe('COPY and large values', () => {
  it('copies an 8 MiB row in and out', async () => {
    await sql`CREATE TABLE fid_copy (id int, body text)`;
    const body = 'x'.repeat(LARGE_ROW_BYTES - 1) + 'y';

    const writable = await sql`COPY fid_copy FROM STDIN`.writable();
    writable.write(`1\t${body}\n2\tsmall\n`);
    writable.end();
    await once(writable, 'finish');
    const stored = await sql`SELECT id, length(body) AS length, right(body, 1) AS last FROM fid_copy ORDER BY id`;

    const readable = await sql`COPY fid_copy TO STDOUT`.readable();
    const chunks: Buffer[] = [];
    for await (const chunk of readable) {
      chunks.push(chunk as Buffer);
    }
    const copied = Buffer.concat(chunks).toString('utf8');

    expect(stored.map((row) => row.length)).toEqual([LARGE_ROW_BYTES, 5]);
    expect(stored[0].last).toBe('y');
    expect(sha256(copied)).toBe(sha256(`1\t${body}\n2\tsmall\n`));
  });

  it('round-trips a 40 MiB bytea', async () => {
    const client = await env.connect();
    try {
      const value = crypto.randomBytes(LARGE_VALUE_BYTES);
      await client.query('CREATE TABLE fid_bytea (b bytea)');
      await client.query('INSERT INTO fid_bytea VALUES ($1)', [value]);

      const summary = await client.query("SELECT length(b) AS length, encode(sha256(b), 'hex') AS digest FROM fid_bytea");
      const echoed = await client.query('SELECT b FROM fid_bytea');

      expect(summary.rows[0].length).toBe(LARGE_VALUE_BYTES);
      expect(summary.rows[0].digest).toBe(sha256(value));
      expect(sha256(echoed.rows[0].b)).toBe(sha256(value));
    } finally {
      await client.end();
    }
  });

  it('round-trips a 40 MiB text', async () => {
    const value = 'fidelity '.repeat(LARGE_VALUE_BYTES / 9);
    const rows = await sql`SELECT ${value}::text AS t`;

    expect(rows[0].t.length).toBe(value.length);
    expect(sha256(rows[0].t)).toBe(sha256(value));
  });

  it('holds a large result back from a paused client', async () => {
    const connection = await rawConnect(env.tunnel.port);
    connection.send(startupMessage({ user: 'anyone', database: env.database, application_name: 'fid-paused' }));
    await connection.waitFor('Z');
    connection.socket.pause();
    const before = process.memoryUsage().arrayBuffers;

    connection.send(queryMessage(`SELECT repeat('x', 1048576) FROM generate_series(1, ${UNREAD_RESULT_ROWS})`));
    // The server waits in ClientWrite only when every hop in between has stopped reading.
    await eventually(async () => {
      const result = await env.server.adminQuery("SELECT 1 FROM pg_stat_activity WHERE application_name = 'fid-paused' AND wait_event = 'ClientWrite'");
      return result.rowCount === 1 ? true : undefined;
    });
    const growth = process.memoryUsage().arrayBuffers - before;

    expect(growth).toBeLessThan(UNREAD_RESULT_BYTES / 4);
    connection.close();
  });
});
