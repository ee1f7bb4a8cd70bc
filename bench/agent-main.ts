// Entry of the agent child process: `node dist/bench/agent-main.js`, with
// SDM_HOME and SDM_TOKEN in its environment. It runs the agent as
// `sdm listen` does, logs to agent.log in SDM_HOME, prints one ready line
// with its control socket, and stops cleanly on SIGTERM.

import { createWriteStream } from 'node:fs';

import { startAgent } from '../src/agent/agent.js';
import { resolveHome, sdmPaths } from '../src/agent/home.js';
import { createLogger } from '../src/log.js';

async function main(): Promise<void> {
  const paths = sdmPaths(resolveHome(process.env));
  const logFile = createWriteStream(paths.log);
  const agent = await startAgent({ paths, env: process.env, logger: createLogger({ name: 'agent', destination: logFile }), keyring: null });
  process.stdout.write(JSON.stringify({ socketPath: agent.socketPath }) + '\n');

  process.once('SIGTERM', () => {
    void agent.close().finally(() => logFile.end(() => process.exit(0)));
  });
}

main().catch((error: Error) => {
  process.stderr.write(`agent-main: ${error.message}\n`);
  process.exit(1);
});
