// Definitions of `sdm connect` and `sdm disconnect`; the actions are in ../connect.ts.

import type { Command } from 'commander';
import type { CliRun } from '../cli-run.js';
import type { ConnectOptions, DisconnectOptions } from '../connect.js';

export function defineConnect(program: Command, run: CliRun): void {
  const load = () => import('../connect.js');

  program
    .command('connect')
    .description('listen on a loopback port for each resource; with -- COMMAND, run it with PG* settings and disconnect after')
    .argument('[names...]', 'resources to connect')
    .option('--all', 'connect every resource you may reach')
    .option('--filter <expr>', 'connect only matching resources, such as tags:env=dev')
    .option('--env', 'print `export PG…` lines for eval "$(sdm connect NAME --env)"')
    .option('--json', 'print the addresses and PG* settings as JSON')
    .usage('NAME… | --all [--filter EXPR] [--env | --json] [-- COMMAND ARGS…]')
    .action((names: string[], options: ConnectOptions) => run.action(load, (module, context) => module.connect(context, names, options)));

  program
    .command('disconnect')
    .description('stop listening for resources and end their connections')
    .argument('[names...]', 'resources to disconnect')
    .option('--all', 'disconnect every resource')
    .option('--forget-port', 'also forget the remembered ports, so the next connect picks new ones')
    .action((names: string[], options: DisconnectOptions) => run.action(load, (module, context) => module.disconnect(context, names, options)));
}
