// Definition of `sdm status`; the action is in ../status.ts.

import type { Command } from 'commander';
import type { CliRun } from '../cli-run.js';

export function defineStatus(program: Command, run: CliRun): void {
  program
    .command('status')
    .description('list the resources you may reach, with their local address, connection and health')
    .option('--json', 'print JSON')
    .option('--filter <expr>', 'show only matching resources, such as name:prod-*,tags:env=prod')
    .action((options: { json?: boolean; filter?: string }) =>
      run.action(
        () => import('../status.js'),
        (module, context) => module.showStatus(context, options),
      ),
    );
}
