// Runs pgbench against one path and reads its throughput.

import { runToEnd } from './child-process.js';
import type { ClientPath } from './paths.js';

export const PGBENCH_PATH = '/usr/bin/pgbench';

/** Concurrent pgbench clients (-c) and threads (-j). */
export const PGBENCH_CLIENTS = 8;
export const PGBENCH_THREADS = 2;

/** Time beyond the run's duration that pgbench gets to connect and finish before it is killed. */
const PGBENCH_GRACE_MS = 60_000;

export interface PgbenchRun {
  /** Transactions per second as pgbench prints it; with -C, this includes the time to connect. */
  tps: number;
  transactions: number;
}

/** Select-only transactions (-S) for `seconds`; with `newConnectionEach`, a new connection per transaction (-C). */
export async function runPgbench(path: ClientPath, options: { seconds?: number; transactionsPerClient?: number; newConnectionEach: boolean }): Promise<PgbenchRun> {
  const args = ['-n', '-S', '-c', String(PGBENCH_CLIENTS), '-j', String(PGBENCH_THREADS)];
  args.push(...(options.seconds !== undefined ? ['-T', String(options.seconds)] : ['-t', String(options.transactionsPerClient)]));
  if (options.newConnectionEach) {
    args.push('-C');
  }

  const timeoutMs = (options.seconds ?? 600) * 1000 + PGBENCH_GRACE_MS;
  const run = await runToEnd(PGBENCH_PATH, args, { env: { ...process.env, ...path.env }, timeoutMs });
  if (run.code !== 0) {
    throw new Error(`pgbench ${args.join(' ')} through ${path.name} exited with ${run.code}: ${run.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  }
  return parsePgbenchOutput(run.stdout, path.name);
}

export function parsePgbenchOutput(stdout: string, pathName: string): PgbenchRun {
  const tps = /^tps = ([\d.]+)/m.exec(stdout);
  const processed = /^number of transactions actually processed: (\d+)/m.exec(stdout);
  if (tps === null || processed === null) {
    throw new Error(`pgbench through ${pathName} printed no "tps =" or "transactions actually processed" line; its output was:\n${stdout}`);
  }
  return { tps: Number(tps[1]), transactions: Number(processed[1]) };
}
