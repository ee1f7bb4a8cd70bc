// One run of the CLI: parse the words, run the action, print a failure the
// same way whatever raised it, and return the exit code.

import type { Command } from 'commander';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { CliRun } from './cli-run.js';
import type { CliDeps, CliIo } from './io.js';
import { buildProgram } from './program.js';
import { reportError } from './report.js';

/** Separates sdm's own words from the command after `--`, which sdm connect runs. */
const PASSTHROUGH_MARK = '--';

/** Flag that makes a command print JSON, and its errors too. */
const JSON_FLAG = '--json';

/** Runs `sdm` with `argv` (the words after `sdm`) and returns the exit code. */
export async function runCli(argv: string[], io: CliIo, deps: CliDeps = {}): Promise<number> {
  const mark = argv.indexOf(PASSTHROUGH_MARK);
  const words = mark < 0 ? argv : argv.slice(0, mark);
  const passthrough = mark < 0 ? [] : argv.slice(mark + 1);
  const json = words.includes(JSON_FLAG);

  const run = new CliRun(io, deps, passthrough);
  const program = buildProgram(run, { quietErrors: json });
  const path = commandPath(program, words);
  const debug = io.env.SDM_DEBUG === '1';

  try {
    if (mark >= 0 && path !== 'sdm connect') {
      throw new SdmError('usage', `${path} does not take a command after --`, {
        exitCode: ExitCode.USAGE,
        hint: 'only sdm connect NAME -- COMMAND ARGS… runs a command',
      });
    }
    await program.parseAsync(wordsToParse(program, words), { from: 'user' });
    return run.exitCode();
  } catch (error) {
    return reportError(error, await run.output(), { commandPath: path, debug, json });
  }
}

/**
 * Returns the words to parse. Commander's help command takes one word, so
 * `sdm help resource add` would print the help of `resource`. It is parsed
 * as `sdm resource add --help` instead. Commander prints the full help and
 * no error for `sdm help NOSUCH`, so a help request that names an unknown
 * command is parsed as the command words up to it, which commander reports
 * as unknown, with its suggestion of the likely name.
 */
function wordsToParse(program: Command, words: string[]): string[] {
  const [first, ...targets] = words;
  if (first !== 'help' || targets.length === 0 || targets.some((word) => word.startsWith('-'))) {
    return words;
  }

  let command = program;
  for (const [index, word] of targets.entries()) {
    const next = findCommand(command, word);
    if (next === undefined) {
      return targets.slice(0, index + 1);
    }
    command = next;
  }
  return targets.length === 1 ? words : [...targets, '--help'];
}

function findCommand(command: Command, word: string): Command | undefined {
  return command.commands.find((candidate) => candidate.name() === word || candidate.aliases().includes(word));
}

/** Finds the command the words name, such as "sdm resource add", by following subcommand names. */
export function commandPath(program: Command, words: string[]): string {
  const names = [program.name()];
  let command = program;

  for (const word of words) {
    if (word.startsWith('-')) {
      continue;
    }
    const next = findCommand(command, word);
    if (next === undefined) {
      break;
    }
    names.push(next.name());
    command = next;
  }
  return names.join(' ');
}
