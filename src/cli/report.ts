// Printing a failure: `error: MESSAGE` on stderr, then a `hint:` line saying
// what to do next, and the exit code scripts can test. With --json the same
// fields go to stderr as one JSON object instead, so scripts can parse them.

import { CommanderError } from 'commander';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { defaultHint } from './error-hints.js';
import type { Output } from './output.js';

/** Commander codes that end a run successfully: help or version was printed. */
const COMMANDER_SUCCESS_CODES = new Set(['commander.helpDisplayed', 'commander.version']);

/** Commander prints the help itself when a command group is run without a subcommand. */
const COMMANDER_HELP_CODE = 'commander.help';

/** Hint after an error that sdm did not raise on purpose. */
const BUG_HINT = 'this is a bug in sdm; run again with SDM_DEBUG=1 to see where it happened, and report it';

/**
 * An error whose exit code is not one of ExitCode's, such as 127 when the
 * command given to sdm connect is not found, as shells report it.
 */
export interface ProcessExitCode {
  readonly processExitCode: number;
}

export interface ReportOptions {
  /** The command the user typed, such as "sdm resource add". */
  commandPath: string;
  /** Print the stack trace too (SDM_DEBUG=1). */
  debug: boolean;
  /** Print the error as one JSON object, because the command was given --json. */
  json: boolean;
}

interface ErrorReport {
  code: string;
  message: string;
  hint: string;
  exitCode: number;
}

/**
 * Prints `error` and returns the exit code. Commander has already printed
 * its own usage error, with its suggestion of the likely flag, unless JSON
 * was requested, so in text mode only the next step is added.
 */
export function reportError(error: unknown, output: Output, options: ReportOptions): number {
  if (error instanceof CommanderError && (COMMANDER_SUCCESS_CODES.has(error.code) || error.exitCode === 0)) {
    return ExitCode.OK;
  }
  if (error instanceof CommanderError && error.code === COMMANDER_HELP_CODE) {
    return ExitCode.USAGE;
  }

  const report = describeError(error, options.commandPath);
  const stack = options.debug && error instanceof Error ? error.stack : undefined;
  if (options.json) {
    printJson(output, report, stack);
  } else {
    printText(output, report, error instanceof CommanderError, stack);
  }
  return report.exitCode;
}

function describeError(error: unknown, commandPath: string): ErrorReport {
  if (error instanceof CommanderError) {
    // Commander's message reads "error: TEXT", with its suggestion on a second line.
    const message = error.message.replace(/^error: /, '').replace(/\n/g, ' ');
    return { code: error.code, message, hint: defaultHint(ExitCode.USAGE, commandPath), exitCode: ExitCode.USAGE };
  }
  if (error instanceof SdmError) {
    const exitCode = hasProcessExitCode(error) ? error.processExitCode : error.exitCode;
    return { code: error.code, message: error.message, hint: error.hint ?? defaultHint(exitCode, commandPath), exitCode };
  }

  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal_error', message, hint: BUG_HINT, exitCode: ExitCode.FAILURE };
}

function hasProcessExitCode(error: SdmError): error is SdmError & ProcessExitCode {
  return typeof (error as Partial<ProcessExitCode>).processExitCode === 'number';
}

function printText(output: Output, report: ErrorReport, printedByCommander: boolean, stack: string | undefined): void {
  const colour = output.errorColour;
  if (!printedByCommander) {
    output.stderr.write(`${colour.red('error:')} ${report.message}\n`);
  }
  output.stderr.write(`${colour.dim('hint:')} ${report.hint}\n`);
  if (stack !== undefined) {
    output.stderr.write(stack + '\n');
  }
}

/**
 * Writes the error as one line of JSON on stderr:
 * `{"error":{"code":STRING,"message":STRING,"hint":STRING}}`, plus
 * `"stack":STRING` inside "error" when SDM_DEBUG=1. `code` is the SdmError
 * code, a commander code such as "commander.unknownOption" for usage errors
 * found while parsing, or "internal_error" for a bug in sdm.
 */
function printJson(output: Output, report: ErrorReport, stack: string | undefined): void {
  const body: Record<string, string> = { code: report.code, message: report.message, hint: report.hint };
  if (stack !== undefined) {
    body.stack = stack;
  }
  output.stderr.write(JSON.stringify({ error: body }) + '\n');
}
