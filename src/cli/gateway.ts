// `sdm gateway init` and `sdm gateway start`: create and run a node. The
// node's modules (store, identity, TLS server) load only here.

import type { Command } from 'commander';
import { formatHostPort, parseHostPort } from '../agent/address.js';
import type { InitResult } from '../node/gateway.js';
import type { CliContext } from './context.js';

interface InitOptions {
  dataDir: string;
  listen?: string;
  json?: boolean;
}

export function registerGateway(program: Command, context: CliContext): void {
  const gateway = program.command('gateway').description('create and run a node, the gateway that reaches the databases');

  gateway
    .command('init')
    .description('create a node data directory: TLS key and self-signed certificate, store, and the first admin user')
    .requiredOption('--data-dir <dir>', 'directory for the node (created with mode 0700)')
    .option('--listen <host:port>', 'address the node listens on (default 127.0.0.1:8443)')
    .option('--json', 'print the result as JSON')
    .action((options: InitOptions) => initNode(context, options));

  gateway
    .command('start')
    .description('run the node in the foreground until SIGINT or SIGTERM')
    .requiredOption('--data-dir <dir>', 'directory that sdm gateway init created')
    .action((options: { dataDir: string }) => startNode(context, options.dataDir));
}

async function initNode(context: CliContext, options: InitOptions): Promise<void> {
  if (options.listen !== undefined) {
    parseHostPort(options.listen, '--listen');
  }

  const { initGateway } = await import('../node/gateway.js');
  const result = await initGateway({ dataDir: options.dataDir, listen: options.listen });
  if (options.json === true) {
    context.output.json({ dataDir: options.dataDir, listen: result.listen, fingerprint: result.fingerprint, adminToken: result.adminToken });
    return;
  }
  printInitResult(context, options.dataDir, result);
}

function printInitResult(context: CliContext, dataDir: string, result: InitResult): void {
  const output = context.output;
  const address = parseHostPort(result.listen, '--listen');
  const loginHost = address.host === '0.0.0.0' || address.host === '::' ? 'HOST' : address.host;
  const loginAddress = formatHostPort({ host: loginHost, port: address.port });

  output.line(`initialised a node in ${dataDir}`);
  output.fields([
    ['listen', result.listen],
    ['fingerprint', result.fingerprint],
    ['admin token', result.adminToken],
  ]);
  output.line();
  output.line('The admin token is shown only this once; store it now.');
  output.line(`Start the node:  sdm gateway start --data-dir ${dataDir}`);
  output.line(`Log in:          sdm login --gateway ${loginAddress} --fingerprint ${result.fingerprint}`);
}

async function startNode(context: CliContext, dataDir: string): Promise<void> {
  const { createLogger } = await import('../log.js');
  const { runGateway } = await import('../node/gateway.js');
  const logger = createLogger({ name: 'sdm-node', destination: context.io.stderr as NodeJS.WritableStream & { isTTY?: boolean } });

  const node = await runGateway({ dataDir, logger });
  const signal = await context.io.waitForStop();
  logger.info({ signal }, 'stopping the node');
  await node.close();
}
