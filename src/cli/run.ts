// One run of the CLI: parse the words, run the action, print a failure the
// same way whatever raised it, and return the exit code.

import type { Command } from 'commander';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { CliContext } from './context.js';
import type { CliDeps, CliIo } from './io.js';
import { buildProgram } from './program.js';
import { reportError } from './report.js';

/** Separates sdm's own words from the command after `--`, which sdm connect runs. */
const PASSTHROUGH_MARK = '--';

/** Runs `sdm` with `argv` (the words after `sdm`) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  const mark = argv.indexOf(PASSTHROUGH_MARK);
  const words = mark < 0 ? argv : argv.slice(0, mark);
  const passthrough = mark < 0 ? [] : argv.slice(mark + 1);

  const context = new CliContext(io, deps, passthrough);
  const program = buildProgram(context);
  const path = commandPath(program, words);
  const debug = io.env.SDM_DEBUG === '1';

  try {
    if (mark >= 0 && path !== 'sdm connect') {
      throw new SdmError('usage', `${path} does not take a command after --`, {
        exitCode: ExitCode.USAGE,
        hint: 'only sdm connect NAME -- COMMAND ARGS… runs a command',
      });
    }
    await program.parseAsync(words, { from: 'user' });
    return context.exitCode;
  } catch (error) {
    return reportError(error, context.output, path, debug);
  }
}

/** Finds the command the words name, such as "sdm resource add", by following subcommand names. */
export function commandPath(program: Command, words: string[]): string {
  const names = [program.name()];
  let command = program;

  for (const word of words) {
    if (word.startsWith('-')) {
      continue;
    }
    const next = command.commands.find((candidate) => candidate.name() === word || candidate.aliases().includes(word));
    if (next === undefined) {
      break;
    }
    names.push(next.name());
    command = next;
  }
  return names.join(' ');
}
