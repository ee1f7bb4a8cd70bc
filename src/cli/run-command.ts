// Running the command given after `--` to sdm connect, with the PG* settings
// in its environment. Signals sent to sdm reach the command, and sdm exits
// with the command's exit code (128 + the signal number when it was killed,
// 127 or 126 when it cannot be started).

import { spawn, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

/** Variable in which the bin/sdm launcher keeps the caller's NODE_EXTRA_CA_CERTS, which it takes away from sdm itself. */
export const CALLER_EXTRA_CA_ENV = 'SDM_CALLER_NODE_EXTRA_CA_CERTS';

/** Returns `env` as the caller had it: with NODE_EXTRA_CA_CERTS back where the launcher took it from. */
export function callerEnvironment(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const saved = env[CALLER_EXTRA_CA_ENV];
  if (saved === undefined) {
    return env;
  }
  const { [CALLER_EXTRA_CA_ENV]: _saved, ...rest } = env;
  return { ...rest, NODE_EXTRA_CA_CERTS: saved };
}

/** Signals passed on to the command while it runs. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Offset shells add to a signal number to form the exit code of a killed process. */
const SIGNAL_EXIT_BASE = 128;

/** Exit code shells use when the command is not found (POSIX). */
export const COMMAND_NOT_FOUND_EXIT = 127;

/** Exit code shells use when the command is found but cannot be executed (POSIX). */
export const COMMAND_NOT_EXECUTABLE_EXIT = 126;

/**
 * Raised when the command cannot be started. sdm exits with
 * `processExitCode`, 127 or 126 as a shell would, rather than an ExitCode,
 * so a script gets the same code with or without sdm connect.
 */
export class CommandStartError extends SdmError {
  readonly processExitCode: number;

  constructor(file: string, error: NodeJS.ErrnoException) {
    const [detail, processExitCode, hint] = describeStartFailure(error);
    super('command_failed', `cannot run ${file}: ${detail}`, { hint, cause: error });
    this.processExitCode = processExitCode;
  }
}

function describeStartFailure(error: NodeJS.ErrnoException): [string, number, string] {
  switch (error.code) {
    case 'ENOENT':
      return ['command not found', COMMAND_NOT_FOUND_EXIT, 'check the command name and PATH'];
    case 'EACCES':
    case 'EISDIR':
      return ['permission denied: it is not an executable file', COMMAND_NOT_EXECUTABLE_EXIT, 'check that the path names a program and that it has execute permission (chmod +x)'];
    default:
      return [error.message, ExitCode.FAILURE, 'check the command and its permissions'];
  }
}

/** Runs `command` and returns its exit code; `stdio` defaults to this process's own streams. */
export function runCommand(command: string[], env: Record<string, string | undefined>, stdio: StdioOptions = 'inherit'): Promise<number> {
  const [file, ...args] = command;
  if (file === undefined) {
    return Promise.reject(new SdmError('usage', 'no command after --', { exitCode: ExitCode.USAGE, hint: 'write sdm connect NAME -- COMMAND ARGS…' }));
  }

  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio, env });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    const stopForwarding = (): void => {
      for (const signal of FORWARDED_SIGNALS) {
        process.off(signal, forward);
      }
    };

    for (const signal of FORWARDED_SIGNALS) {
      process.on(signal, forward);
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      stopForwarding();
      reject(new CommandStartError(file, error));
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      resolve(code ?? SIGNAL_EXIT_BASE + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}
