// Printing a failure: `error: MESSAGE` on stderr, then a line saying what to
// do next, and the exit code scripts can test.

import { CommanderError } from 'commander';
import { SdmError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import type { Output } from './output.js';

/** Commander codes that end a run successfully: help or version was printed. */
const COMMANDER_SUCCESS_CODES = new Set(['commander.helpDisplayed', 'commander.version']);

/** Commander prints the help itself when a command group is run without a subcommand. */
const COMMANDER_HELP_CODE = 'commander.help';

/**
 * Prints `error` and returns the exit code. Commander has already printed its
 * own usage error, with its suggestion of the likely flag, so only the next
 * step is added. `commandPath` is the command the user typed, such as
 * "sdm resource add".
 */
export function reportError(error: unknown, output: Output, commandPath: string, debug: boolean): ExitCodeValue {
  if (error instanceof CommanderError) {
    if (COMMANDER_SUCCESS_CODES.has(error.code) || error.exitCode === 0) {
      return ExitCode.OK;
    }
    if (error.code === COMMANDER_HELP_CODE) {
      return ExitCode.USAGE;
    }
    printHint(output, `run ${commandPath} --help to see the usage`);
    return ExitCode.USAGE;
  }

  if (error instanceof SdmError) {
    output.stderr.write(`${output.errorColour.red('error:')} ${error.message}\n`);
    if (error.hint !== undefined) {
      printHint(output, error.hint);
    }
    printStack(output, error, debug);
    return error.exitCode;
  }

  const message = error instanceof Error ? error.message : String(error);
  output.stderr.write(`${output.errorColour.red('error:')} ${message}\n`);
  printHint(output, 'this is a bug in sdm; run again with SDM_DEBUG=1 to see where it happened, and report it');
  printStack(output, error, debug);
  return ExitCode.FAILURE;
}

function printHint(output: Output, hint: string): void {
  output.stderr.write(`${output.errorColour.dim('hint:')} ${hint}\n`);
}

function printStack(output: Output, error: unknown, debug: boolean): void {
  if (debug && error instanceof Error && error.stack !== undefined) {
    output.stderr.write(error.stack + '\n');
  }
}
