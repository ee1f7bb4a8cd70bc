// Entry of the node child process: `node dist/bench/node-main.js DATA_DIR`.
// It runs the node as `sdm gateway start --data-dir DATA_DIR` does, logs to
// node.log beside the data directory, prints one ready line with its port,
// and stops cleanly on SIGTERM.

import { createWriteStream } from 'node:fs';
import path from 'node:path';

import { createLogger } from '../src/log.js';
import { runGateway } from '../src/node/gateway.js';

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (dataDir === undefined) {
    throw new Error('missing data directory argument; usage: node dist/bench/node-main.js DATA_DIR');
  }

  const logFile = createWriteStream(path.join(path.dirname(path.resolve(dataDir)), `${path.basename(dataDir)}.log`));
  const gateway = await runGateway({ dataDir, logger: createLogger({ name: 'node', destination: logFile }) });
  process.stdout.write(JSON.stringify({ port: gateway.address.port, fingerprint: gateway.fingerprint }) + '\n');

  process.once('SIGTERM', () => {
    void gateway.close().finally(() => logFile.end(() => process.exit(0)));
  });
}

main().catch((error: Error) => {
  process.stderr.write(`node-main: ${error.message}\n`);
  process.exit(1);
});
