import net from 'node:net';

import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/demo/embedded-postgres.js';
import { eventually, startFidelityEnv, type FidelityEnv } from '../helpers/fidelity-env.js';

/** Connections held open at the same time. */
const CONCURRENT_CONNECTIONS = 300;

/** Connect, query and disconnect cycles in the churn test. */
const CHURN_CONNECTIONS = 2_000;

/** Clients connecting in parallel during the churn test. */
const CHURN_PARALLELISM = 4;

/**
 * Bound on the churn test. Client, agent session, node and their TLS all run
 * on this one thread, about 20 ms a connection, and another test file may
 * share the two cores.
 */
const CHURN_TIMEOUT_MS = 240_000;

/** Server connection limit of this file's own server: the concurrent connections, plus the admin pool and headroom. */
const SERVER_MAX_CONNECTIONS = CONCURRENT_CONNECTIONS + 50;

let server: EmbeddedPostgres;
let env: FidelityEnv;

beforeAll(async () => {
  // The shared server allows 100 connections and serves other test files at the same time, so this file starts its own.
  server = await startEmbeddedPostgres();
  await server.adminQuery(`ALTER SYSTEM SET max_connections = ${SERVER_MAX_CONNECTIONS}`);
  await server.pause();
  await server.resume();
  env = await startFidelityEnv({ server });
});

afterAll(async () => {
  await env?.close();
  await server?.stop();
});

function openSocketCount(): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((handle) => handle instanceof net.Socket).length;
}

async function settledSocketCount(baseline: number): Promise<number> {
  return eventually(async () => {
    const count = openSocketCount();
    return count <= baseline ? count : undefined;
  });
}

describe('many connections', () => {
  it('serves 300 at once', async () => {
    const limit = await server.adminQuery('SHOW max_connections');
    expect(Number(limit.rows[0].max_connections)).toBe(SERVER_MAX_CONNECTIONS);
    const baseline = openSocketCount();

    const clients = await Promise.all(Array.from({ length: CONCURRENT_CONNECTIONS }, () => env.connect()));
    const results = await Promise.all(clients.map((client, index) => client.query('SELECT $1::int AS n', [index])));
    await Promise.all(clients.map((client: pg.Client) => client.end()));

    expect(results.map((result) => result.rows[0].n)).toEqual(Array.from({ length: CONCURRENT_CONNECTIONS }, (_, index) => index));
    expect(await settledSocketCount(baseline)).toBeLessThanOrEqual(baseline);
  });

  it('survives 2,000 connect and disconnect cycles', async () => {
    const baseline = openSocketCount();
    let next = 0;
    let completed = 0;
    const failures: string[] = [];

    const worker = async (): Promise<void> => {
      while (next < CHURN_CONNECTIONS) {
        next += 1;
        try {
          const client = await env.connect();
          await client.query('SELECT 1');
          await client.end();
          completed += 1;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    await Promise.all(Array.from({ length: CHURN_PARALLELISM }, worker));

    expect(failures).toEqual([]);
    expect(completed).toBe(CHURN_CONNECTIONS);
    expect(await settledSocketCount(baseline)).toBeLessThanOrEqual(baseline);
  }, CHURN_TIMEOUT_MS);
});
