// Wall-clock time of whole `sdm` commands, each run as a user runs it:
// `bin/sdm ARGS` in a new process, with the agent already running.
// `node -e 0` runs in the same rounds as the floor: the start-up and exit
// of Node itself on the same machine at the same moment.

import { access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { runToEnd } from './child-process.js';
import { median } from './statistics.js';

/** From the compiled dist/bench/ folder to the package root's bin/sdm. */
export const SDM_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/sdm');

/** Time one command may take before it is killed. */
const COMMAND_TIMEOUT_MS = 30_000;

/** One command to time: `file ARGS`, shown as `label`. */
export interface TimedCommand {
  label: string;
  file: string;
  args: string[];
}

/** Node's own start-up and exit, with no script. */
export const NODE_FLOOR_COMMAND: TimedCommand = { label: 'node -e 0', file: process.execPath, args: ['-e', '0'] };

/** Returns the `sdm` command with `args`, run through the bin/sdm launcher. */
export function sdmCommand(args: string[]): TimedCommand {
  return { label: `sdm ${args.join(' ')}`, file: SDM_BIN, args };
}

export interface CommandTiming {
  command: string;
  medianMs: number | null;
  runs: number;
  /** Reason the command was not measured, when medianMs is null. */
  skipped?: string;
}

/** Times each command `runs` times, alternating between commands; a failing command is reported as skipped with its stderr. */
export async function timeCommands(commands: TimedCommand[], env: NodeJS.ProcessEnv, runs: number): Promise<CommandTiming[]> {
  const missing = await binMissing();
  const times = commands.map(() => [] as number[]);
  const failures: (string | undefined)[] = commands.map((command) => (command.file === SDM_BIN ? missing : undefined));

  for (let round = 0; round < runs; round += 1) {
    for (const [index, command] of commands.entries()) {
      if (failures[index] !== undefined) {
        continue;
      }
      const started = performance.now();
      const run = await runToEnd(command.file, command.args, { env, timeoutMs: COMMAND_TIMEOUT_MS });
      times[index]!.push(performance.now() - started);
      if (run.code !== 0) {
        failures[index] = `exited with ${run.code}: ${run.stderr.trim().split('\n')[0] ?? ''}`;
      }
    }
  }

  return commands.map((command, index) => ({
    command: command.label,
    medianMs: failures[index] === undefined ? median(times[index]!) : null,
    runs: times[index]!.length,
    skipped: failures[index],
  }));
}

async function binMissing(): Promise<string | undefined> {
  try {
    await access(SDM_BIN);
    return undefined;
  } catch {
    return `${SDM_BIN} does not exist`;
  }
}
