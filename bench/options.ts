// Command-line options of `npm run bench`: the full run (about 10 minutes)
// or `--quick` (about 2 minutes), with smaller transfers and churn.

export interface BenchOptions {
  quick: boolean;
  /** Alternating rounds over all paths; medians are taken over rounds. */
  rounds: number;
  pgbenchSeconds: number;
  copyBytes: number;
  valueBytes: number;
  churnConnections: number;
  idleConnections: number[];
  commandRuns: number;
}

const MIB = 1024 * 1024;

export const FULL_OPTIONS: BenchOptions = {
  quick: false,
  rounds: 5,
  pgbenchSeconds: 5,
  copyBytes: 200 * MIB,
  valueBytes: 40 * MIB,
  churnConnections: 10_000,
  idleConnections: [200, 500],
  commandRuns: 10,
};

export const QUICK_OPTIONS: BenchOptions = {
  ...FULL_OPTIONS,
  quick: true,
  rounds: 2,
  pgbenchSeconds: 2,
  copyBytes: 50 * MIB,
  churnConnections: 1_000,
};

export function parseBenchOptions(argv: string[]): BenchOptions {
  for (const argument of argv) {
    if (argument !== '--quick') {
      throw new Error(`unknown option "${argument}"; expected no option for the full run or --quick for a run of about 2 minutes`);
    }
  }
  return argv.includes('--quick') ? QUICK_OPTIONS : FULL_OPTIONS;
}
