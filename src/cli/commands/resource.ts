// Definitions of `sdm resource …`; the actions are in ../resource.ts.

import type { Command } from 'commander';
import { RESOURCE_TYPE } from '../../store/types.js';
import type { CliRun } from '../cli-run.js';
import type { ResourceFlags } from '../resource-options.js';
import { addResourceFlags } from './resource-flags.js';

type JsonOption = { json?: boolean };

export function defineResource(program: Command, run: CliRun): void {
  const resource = program.command('resource').description('manage the databases the node reaches (changes need an admin)');
  const load = () => import('../resource.js');

  addResourceFlags(
    resource.command('add').description('register a database').argument('<type>', `resource type: ${RESOURCE_TYPE}`).argument('<name>', 'name users connect by'),
    'add',
  ).action((type: string, name: string, flags: ResourceFlags) => run.action(load, (module, context) => module.addResource(context, type, name, flags)));

  resource
    .command('list')
    .description('list the resources you may reach')
    .option('--filter <expr>', 'show only matching resources, such as tags:env=prod')
    .option('--json', 'print JSON')
    .action((options: { filter?: string; json?: boolean }) => run.action(load, (module, context) => module.listResources(context, options)));

  resource
    .command('show')
    .description('show one resource')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action((name: string, options: JsonOption) => run.action(load, (module, context) => module.showResource(context, name, options)));

  addResourceFlags(resource.command('update').description('change fields of a resource').argument('<name>'), 'update').action(
    (name: string, flags: ResourceFlags) => run.action(load, (module, context) => module.updateResource(context, name, flags)),
  );

  resource
    .command('delete')
    .description('delete a resource')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action((name: string, options: JsonOption) => run.action(load, (module, context) => module.deleteResource(context, name, options)));

  resource
    .command('healthcheck')
    .description('check now that the node can sign in to the resource; exits 1 when it cannot')
    .argument('<name>')
    .option('--json', 'print JSON')
    .action((name: string, options: JsonOption) => run.action(load, (module, context) => module.checkHealth(context, name, options)));
}
