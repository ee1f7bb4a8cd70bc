// The commander program. It never exits the process and never writes to the
// process's streams itself: exitOverride() turns every usage error into a
// CommanderError, and configureOutput() sends text to the streams of the run,
// so tests drive it in-process.

import { Command } from 'commander';
import type { CliContext } from './context.js';
import { packageVersion } from './package-root.js';
import { registerCompletion } from './completion.js';
import { registerConnect } from './connect.js';
import { registerDemo } from './demo.js';
import { registerGateway } from './gateway.js';
import { registerListen } from './listen.js';
import { registerLogin } from './login.js';
import { registerLogs } from './logs.js';
import { registerResource } from './resource.js';
import { registerRole } from './role.js';
import { registerStatus } from './status.js';
import { registerUser } from './user.js';

/** Help text width when stdout is not a terminal. */
const DEFAULT_HELP_COLUMNS = 80;

export function buildProgram(context: CliContext): Command {
  const { stdout, stderr } = context.io;
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
      outputError: (text, write) => write(text),
    });

  registerGateway(program, context);
  registerLogin(program, context);
  registerStatus(program, context);
  registerConnect(program, context);
  registerListen(program, context);
  registerResource(program, context);
  registerUser(program, context);
  registerRole(program, context);
  registerLogs(program, context);
  registerCompletion(program, context);
  registerDemo(program, context);
  return program;
}
