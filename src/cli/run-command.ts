// Running the command given after `--` to sdm connect, with the PG* settings
// in its environment. Signals sent to sdm reach the command, and sdm exits
// with the command's exit code (128 + the signal number when it was killed).

import { spawn, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

/** Signals passed on to the command while it runs. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Offset shells add to a signal number to form the exit code of a killed process. */
const SIGNAL_EXIT_BASE = 128;

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
      reject(new SdmError('command_failed', `cannot run ${file}: ${error.code === 'ENOENT' ? 'command not found' : error.message}`, {
        hint: 'check the command name and PATH',
      }));
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      resolve(code ?? SIGNAL_EXIT_BASE + (signal === null ? 0 : constants.signals[signal]));
    });
  });
}
