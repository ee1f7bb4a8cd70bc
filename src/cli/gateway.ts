// `sdm gateway init` and `sdm gateway start`: create and run a node. The
// node's modules (store, identity, TLS server) load only here.

import { formatHostPort, parseHostPort } from '../agent/address.js';
import type { InitResult } from '../node/gateway.js';
import type { CliContext } from './context.js';

export interface InitOptions {
  dataDir: string;
  listen?: string;
  json?: boolean;
}

export async function initNode(context: CliContext, options: InitOptions): Promise<void> {
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

export async function startNode(context: CliContext, dataDir: string): Promise<void> {
  const { createLogger } = await import('../log.js');
  const { runGateway } = await import('../node/gateway.js');
  const logger = createLogger({ name: 'sdm-node', destination: context.io.stderr as NodeJS.WritableStream & { isTTY?: boolean } });

  const node = await runGateway({ dataDir, logger });
  const signal = await context.io.waitForStop();
  logger.info({ signal }, 'stopping the node');
  await node.close();
}
