// Definitions of `sdm login` and `sdm logout`; the actions are in ../login.ts.

import type { Command } from 'commander';
import type { CliRun } from '../cli-run.js';
import type { LoginOptions } from '../login.js';

export function defineLogin(program: Command, run: CliRun): void {
  const load = () => import('../login.js');

  program
    .command('login')
    .description('log in to a node: pin its certificate, check the API token and store it in the OS keyring')
    .requiredOption('--gateway <host:port>', 'address of the node')
    .option('--fingerprint <sha256>', 'SHA-256 fingerprint of the node certificate, as sdm gateway init printed it')
    .option('--ca-file <pem>', 'PEM file of a CA that signs the node certificate, instead of a fingerprint')
    .option('--token-stdin', 'read the API token from stdin instead of a prompt or SDM_TOKEN')
    .action((options: LoginOptions) => run.action(load, (module, context) => module.login(context, options)));

  program
    .command('logout')
    .description('forget the stored API token and disconnect every resource')
    .action(() => run.action(load, (module, context) => module.logout(context)));
}
