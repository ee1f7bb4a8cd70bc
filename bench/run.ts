// Entry of `npm run bench`. It starts PostgreSQL, the emulator, two nodes and
// two agents (audit logging on and off), a bare relay and pgbouncer, all on
// loopback. It measures every path in alternating rounds, prints one table
// and writes the same results to bench/results/latest.json. Everything it starts
// is stopped by PID, and its temporary folder removed, before it exits.

import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { NODE_FLOOR_COMMAND, sdmCommand, timeCommands } from './commands.js';
import { closeAll, measureChurn, openIdleConnections, sampleRss, type ChurnResult, type RssSample } from './memory.js';
import { parseBenchOptions, type BenchOptions } from './options.js';
import { fixedRolePath, sdmPath, type ClientPath, type PathName } from './paths.js';
import { startPgbouncer } from './pgbouncer-setup.js';
import { runPgbench } from './pgbench.js';
import { startBenchPostgres, type BenchPostgres } from './postgres-setup.js';
import { startBareRelay } from './relay-setup.js';
import { checkTargets, machineInfo, renderTable, type BenchResults } from './report.js';
import { runRounds } from './rounds.js';
import { BENCH_RESOURCE, startSdm, type SdmSetup } from './sdm-setup.js';

/** From the compiled dist/bench/ folder to the source bench/results/ folder. */
const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/results');

/** Length of the pgbench warm-up run on each path before the measured rounds. */
const WARM_UP_SECONDS = 3;

type Stop = () => Promise<void>;

interface Environment {
  postgres: BenchPostgres;
  sdm: SdmSetup;
  paths: ClientPath[];
  skippedPaths: Partial<Record<PathName, string>>;
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  const say = (line: string): void => void process.stdout.write(line + '\n');
  const stops: Stop[] = [];
  const root = await mkdtemp(path.join(os.tmpdir(), 'sdm-bench-'));
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) {
      await stop().catch((error: Error) => say(`cleanup step failed: ${error.message}`));
    }
    await rm(root, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));

  try {
    const results = await measure(options, root, (stop) => stops.push(stop), say);
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(path.join(RESULTS_DIR, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
    say('\n' + renderTable(results));
    say(`Results written to ${path.join(RESULTS_DIR, 'latest.json')}`);
  } finally {
    await stopAll();
  }
}

async function measure(options: BenchOptions, root: string, track: (stop: Stop) => void, say: (line: string) => void): Promise<BenchResults> {
  const started = Date.now();
  const environment = await startEnvironment(root, track, say);
  const sdm = environment.sdm.variants[0]!;
  const sdmClientPath = environment.paths.find((candidate) => candidate.name === 'sdm')!;

  // Idle connections go first, while the agent and node have served no
  // workload yet; churn comes after the rounds, on processes that have.
  say(`Idle connections through sdm, on the freshly started agent and node: ${options.idleConnections.join(', ')}…`);
  const fresh = await sampleRss(sdm);
  const idle = await measureIdle(sdm, sdmClientPath, options.idleConnections);

  for (const clientPath of environment.paths) {
    await runPgbench(clientPath, { seconds: WARM_UP_SECONDS, newConnectionEach: false });
  }
  say(`Measuring ${environment.paths.length} paths in ${options.rounds} alternating rounds…`);
  const medians = await runRounds(environment.paths, options, say);

  say(`Churn: ${options.churnConnections} connections through sdm…`);
  const churn: ChurnResult = await measureChurn(sdm, sdmClientPath, options.churnConnections);

  say(`Timing sdm commands and node -e 0, ${options.commandRuns} runs each…`);
  const timed = [NODE_FLOOR_COMMAND, sdmCommand(['--version']), sdmCommand(['status']), sdmCommand(['connect', BENCH_RESOURCE, '--json'])];
  const commands = await timeCommands(timed, sdm.env, options.commandRuns);

  const partial = {
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: machineInfo(),
    options,
    paths: Object.fromEntries(medians),
    skippedPaths: environment.skippedPaths,
    commands,
    memory: { fresh, idle, churn },
  };
  return { ...partial, targets: checkTargets(partial) };
}

async function startEnvironment(root: string, track: (stop: Stop) => void, say: (line: string) => void): Promise<Environment> {
  // pgbouncer and PostgreSQL run as another OS user when this runs as root, and must reach their folders.
  await chmod(root, 0o755);

  say('Starting PostgreSQL…');
  const postgres = await startBenchPostgres();
  track(() => postgres.server.stop());

  say('Starting the emulator, two nodes and two agents (audit logging on and off)…');
  const sdm = await startSdm(postgres, root, [true, false], track);
  say('Starting the bare relay and pgbouncer…');
  const relay = await startBareRelay(root, postgres.server.port, track);
  const pgbouncer = await startPgbouncer(root, postgres.server.port, postgres.fixedPassword, track);

  const paths = [fixedRolePath('direct', postgres.server.port, postgres, 'require'), fixedRolePath('bare relay', relay.port, postgres, 'require')];
  const skippedPaths: Partial<Record<PathName, string>> = {};
  if (pgbouncer === undefined) {
    skippedPaths.pgbouncer = 'pgbouncer is not installed';
  } else {
    paths.push(fixedRolePath('pgbouncer', pgbouncer.port, postgres, 'disable'));
  }
  paths.push(sdmPath('sdm', sdm.variants[0]!.listenerPort), sdmPath('sdm (audit off)', sdm.variants[1]!.listenerPort));
  return { postgres, sdm, paths, skippedPaths };
}

async function measureIdle(sdm: SdmSetup['variants'][number], clientPath: ClientPath, counts: number[]): Promise<{ connections: number; rss: RssSample }[]> {
  const clients: pg.Client[] = [];
  const samples: { connections: number; rss: RssSample }[] = [];
  try {
    for (const count of counts) {
      await openIdleConnections(clientPath, clients, count);
      samples.push({ connections: count, rss: await sampleRss(sdm) });
    }
  } finally {
    await closeAll(clients);
  }
  return samples;
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
