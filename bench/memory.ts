// Resident memory of the agent and the node: with idle connections held
// open through them, and before and after a run of short-lived connections.

import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

import { runPgbench, PGBENCH_CLIENTS } from './pgbench.js';
import type { ClientPath } from './paths.js';
import type { SdmVariant } from './sdm-setup.js';

/** Connections opened at the same time while building up idle connections. */
const OPEN_CONCURRENCY = 16;

/** Time given to both processes after a phase, so closed sockets are released before RSS is read. */
export const SETTLE_MS = 2_000;

export interface RssSample {
  agentBytes: number;
  nodeBytes: number;
}

export async function sampleRss(variant: SdmVariant): Promise<RssSample> {
  await sleep(SETTLE_MS);
  return { agentBytes: await variant.agent.rssBytes(), nodeBytes: await variant.node.rssBytes() };
}

/** Opens connections through `path` until `clients` contains `count` of them. Each runs one query and then stays idle. */
export async function openIdleConnections(path: ClientPath, clients: pg.Client[], count: number): Promise<void> {
  const openOne = async (): Promise<void> => {
    const client = new pg.Client({ host: path.env.PGHOST, port: Number(path.env.PGPORT), user: path.env.PGUSER, database: path.env.PGDATABASE, ssl: false });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    await client.query('SELECT 1');
  };

  while (clients.length < count) {
    const batch = Math.min(OPEN_CONCURRENCY, count - clients.length);
    await Promise.all(Array.from({ length: batch }, openOne));
  }
}

export async function closeAll(clients: pg.Client[]): Promise<void> {
  await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  clients.length = 0;
}

export interface ChurnResult {
  connections: number;
  before: RssSample;
  after: RssSample;
}

/** Opens and closes `connections` connections through `path` with pgbench -C, one transaction each. */
export async function measureChurn(variant: SdmVariant, path: ClientPath, connections: number): Promise<ChurnResult> {
  const before = await sampleRss(variant);
  const perClient = Math.ceil(connections / PGBENCH_CLIENTS);
  const run = await runPgbench(path, { transactionsPerClient: perClient, newConnectionEach: true });
  const after = await sampleRss(variant);
  return { connections: run.transactions, before, after };
}
