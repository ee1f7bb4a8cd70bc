// Definitions of `sdm gateway init` and `sdm gateway start`; the actions are in ../gateway.ts.

import type { Command } from 'commander';
import type { CliRun } from '../cli-run.js';
import type { InitOptions } from '../gateway.js';

export function defineGateway(program: Command, run: CliRun): void {
  const gateway = program.command('gateway').description('create and run a node, the gateway that reaches the databases');
  const load = () => import('../gateway.js');

  gateway
    .command('init')
    .description('create a node data directory: TLS key and self-signed certificate, store, and the first admin user')
    .requiredOption('--data-dir <dir>', 'directory for the node (created with mode 0700)')
    .option('--listen <host:port>', 'address the node listens on (default 127.0.0.1:8443)')
    .option('--json', 'print the result as JSON')
    .action((options: InitOptions) => run.action(load, (module, context) => module.initNode(context, options)));

  gateway
    .command('start')
    .description('run the node in the foreground until SIGINT or SIGTERM')
    .requiredOption('--data-dir <dir>', 'directory that sdm gateway init created')
    .action((options: { dataDir: string }) => run.action(load, (module, context) => module.startNode(context, options.dataDir)));
}
