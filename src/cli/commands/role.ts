// Definitions of `sdm role …`; the actions are in ../role.ts.

import type { Command } from 'commander';
import type { CliRun } from '../cli-run.js';
import type { GrantOptions } from '../role.js';

type JsonOption = { json?: boolean };

export function defineRole(program: Command, run: CliRun): void {
  const role = program.command('role').description('manage roles, their grants and their members (needs an admin)');
  const load = () => import('../role.js');

  role
    .command('add')
    .description('add a role')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action((name: string, options: JsonOption) => run.action(load, (module, context) => module.addRole(context, name, options)));
  role
    .command('delete')
    .description('delete a role')
    .argument('<name>')
    .action((name: string) => run.action(load, (module, context) => module.deleteRole(context, name)));

  for (const [verb, description] of [
    ['grant', 'grant a resource, or every resource carrying a tag'],
    ['revoke', 'take back a grant'],
  ] as const) {
    role
      .command(verb)
      .description(description)
      .argument('<name>', 'role')
      .option('--resource <name>', 'resource to grant')
      .option('--tags <k=v,...>', 'tags; each one grants every resource that carries it')
      .action((name: string, options: GrantOptions) => run.action(load, (module, context) => module.changeGrants(context, verb, name, options)));
  }

  role
    .command('assign')
    .description('make a user a member of a role')
    .argument('<name>', 'role')
    .argument('<email>', 'user')
    .action((name: string, email: string) => run.action(load, (module, context) => module.assign(context, name, email)));
  role
    .command('unassign')
    .description('remove a user from a role')
    .argument('<name>', 'role')
    .argument('<email>', 'user')
    .action((name: string, email: string) => run.action(load, (module, context) => module.unassign(context, name, email)));

  role
    .command('list')
    .description('list roles with grants and members')
    .option('--json', 'print JSON')
    .action((options: JsonOption) => run.action(load, (module, context) => module.listRoles(context, options)));
}
