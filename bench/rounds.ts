// The throughput workloads, run in alternating rounds: every round runs each
// workload on every path, with the path order rotated, so machine noise
// hits every path alike. Medians are taken over the rounds.

import type { BenchOptions } from './options.js';
import type { ClientPath, PathName } from './paths.js';
import { runPgbench } from './pgbench.js';
import { median } from './statistics.js';
import { copyIn, copyOut, valueIn, valueOut } from './transfers.js';

export type Metric = 'selectTps' | 'connectTps' | 'copyInMs' | 'copyOutMs' | 'valueInMs' | 'valueOutMs';

export const METRICS: { metric: Metric; label: string; higherIsBetter: boolean }[] = [
  { metric: 'selectTps', label: 'pgbench -S, 8 clients (TPS)', higherIsBetter: true },
  { metric: 'connectTps', label: 'pgbench -S -C, new connection each (TPS)', higherIsBetter: true },
  { metric: 'copyInMs', label: 'COPY in (ms)', higherIsBetter: false },
  { metric: 'copyOutMs', label: 'COPY out (ms)', higherIsBetter: false },
  { metric: 'valueInMs', label: 'one large value in a query (ms)', higherIsBetter: false },
  { metric: 'valueOutMs', label: 'one large value read back (ms)', higherIsBetter: false },
];

export type PathMedians = Record<Metric, number>;

/** Calls `progress` with one line per finished step. */
export async function runRounds(paths: ClientPath[], options: BenchOptions, progress: (line: string) => void): Promise<Map<PathName, PathMedians>> {
  const samples = new Map(paths.map((path) => [path.name, emptySamples()]));

  for (let round = 0; round < options.rounds; round += 1) {
    const order = paths.map((_, index) => paths[(index + round) % paths.length]!);
    for (const path of order) {
      const sample = await runOnce(path, options);
      for (const { metric } of METRICS) {
        samples.get(path.name)![metric].push(sample[metric]);
      }
      progress(`round ${round + 1}/${options.rounds} ${path.name}: ${formatSample(sample)}`);
    }
  }

  return new Map([...samples].map(([name, values]) => [name, mediansOf(values)]));
}

async function runOnce(path: ClientPath, options: BenchOptions): Promise<PathMedians> {
  const select = await runPgbench(path, { seconds: options.pgbenchSeconds, newConnectionEach: false });
  const connect = await runPgbench(path, { seconds: options.pgbenchSeconds, newConnectionEach: true });
  const copyInTime = await copyIn(path, options.copyBytes);
  const copyOutTime = await copyOut(path);
  const valueInTime = await valueIn(path, options.valueBytes);
  const valueOutTime = await valueOut(path, options.valueBytes);

  return {
    selectTps: select.tps,
    connectTps: connect.tps,
    copyInMs: copyInTime.ms,
    copyOutMs: copyOutTime.ms,
    valueInMs: valueInTime.ms,
    valueOutMs: valueOutTime.ms,
  };
}

function emptySamples(): Record<Metric, number[]> {
  return { selectTps: [], connectTps: [], copyInMs: [], copyOutMs: [], valueInMs: [], valueOutMs: [] };
}

function mediansOf(values: Record<Metric, number[]>): PathMedians {
  const result = {} as PathMedians;
  for (const { metric } of METRICS) {
    result[metric] = median(values[metric]);
  }
  return result;
}

function formatSample(sample: PathMedians): string {
  return METRICS.map(({ metric }) => `${metric}=${Math.round(sample[metric])}`).join(' ');
}
