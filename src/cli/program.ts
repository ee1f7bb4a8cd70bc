// The commander program. It never exits the process and never writes to the
// process's streams itself: exitOverride() turns every usage error into a
// CommanderError, and configureOutput() sends text to the streams of the run,
// so tests drive it in-process. The definitions under commands/ are light:
// each action imports its own module when it runs, so printing help or a
// usage error loads no client, agent or node code.

import { Command } from 'commander';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { CliRun } from './cli-run.js';
import { defineCompletion } from './commands/completion.js';
import { defineConnect } from './commands/connect.js';
import { defineDemo } from './commands/demo.js';
import { defineGateway } from './commands/gateway.js';
import { defineListen } from './commands/listen.js';
import { defineLogin } from './commands/login.js';
import { defineLogs } from './commands/logs.js';
import { defineResource } from './commands/resource.js';
import { defineRole } from './commands/role.js';
import { defineStatus } from './commands/status.js';
import { defineUser } from './commands/user.js';
import { packageVersion } from './package-root.js';

/** Help text width when stdout is not a terminal. */
const DEFAULT_HELP_COLUMNS = 80;

export interface ProgramOptions {
  /** Set when errors are printed as JSON, so commander's own error text is left out. */
  quietErrors?: boolean;
}

export function buildProgram(run: CliRun, options: ProgramOptions = {}): Command {
  const { stdout, stderr } = run.io;
  const program = new Command('sdm')
    .description('Reach Azure Database for PostgreSQL through an sdm node, with managed identity and no database passwords')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => stdout.write(text),
      writeErr: (text) => stderr.write(text),
      getOutHelpWidth: () => stdout.columns ?? DEFAULT_HELP_COLUMNS,
      getErrHelpWidth: () => stderr.columns ?? DEFAULT_HELP_COLUMNS,
      outputError: (text, write) => {
        if (options.quietErrors !== true) {
          write(text);
        }
      },
    });

  defineGateway(program, run);
  defineLogin(program, run);
  defineStatus(program, run);
  defineConnect(program, run);
  defineListen(program, run);
  defineResource(program, run);
  defineUser(program, run);
  defineRole(program, run);
  defineLogs(program, run);
  defineCompletion(program, run);
  defineDemo(program, run);
  program.hook('preAction', (_program, action) => rejectOptionsAsValues(action));
  return program;
}

/**
 * Commander gives an option that takes a value the next word even when that
 * word is another option, so `sdm status --filter --json` would filter by
 * "--json". A value that is the name of an option is rejected instead.
 */
function rejectOptionsAsValues(command: Command): void {
  const names = new Set<string>(['--help', '-h', '--json']);
  for (let current: Command | null = command; current !== null; current = current.parent) {
    for (const option of current.options) {
      for (const name of [option.long, option.short]) {
        if (name !== undefined) {
          names.add(name);
        }
      }
    }
  }

  for (const option of command.options) {
    const value: unknown = command.getOptionValue(option.attributeName());
    const values = Array.isArray(value) ? value : [value];
    const optionName = values.find((word) => typeof word === 'string' && names.has(word));
    if (option.required && optionName !== undefined) {
      throw new SdmError('usage', `option ${option.long ?? option.short} needs a value, not the option ${String(optionName)}`, {
        exitCode: ExitCode.USAGE,
        hint: `put a value after ${option.long ?? option.short}, for example ${option.flags}`,
      });
    }
  }
}
