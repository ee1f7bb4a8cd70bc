// Definitions of `sdm user …`; the actions are in ../user.ts.

import type { Command } from 'commander';
import { collect } from '../arg-parsers.js';
import type { CliRun } from '../cli-run.js';
import type { AddUserOptions } from '../user.js';

type JsonOption = { json?: boolean };

export function defineUser(program: Command, run: CliRun): void {
  const user = program.command('user').description('manage users and their API tokens (needs an admin)');
  const load = () => import('../user.js');

  user
    .command('add')
    .description('add a user and print their API token once')
    .argument('<email>')
    .option('--admin', 'let the user manage the node')
    .option('--role <role>', 'role to assign; repeat for several', collect, [])
    .option('--json', 'print {"user": …, "token": …}')
    .action((email: string, options: AddUserOptions) => run.action(load, (module, context) => module.addUser(context, email, options)));

  user
    .command('list')
    .description('list users')
    .option('--json', 'print JSON')
    .action((options: JsonOption) => run.action(load, (module, context) => module.listUsers(context, options)));

  user
    .command('delete')
    .description('delete a user; their token stops working at once')
    .argument('<email>')
    .option('--json', 'print JSON')
    .action((email: string, options: JsonOption) => run.action(load, (module, context) => module.deleteUser(context, email, options)));

  user
    .command('rotate-token')
    .description('replace a user\'s API token and print the new one once')
    .argument('<email>')
    .option('--json', 'print {"token": …}')
    .action((email: string, options: JsonOption) => run.action(load, (module, context) => module.rotateToken(context, email, options)));
}
