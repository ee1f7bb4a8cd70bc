// `sdm listen`: the agent in the foreground. sdm connect runs the same
// command detached, with its output going to agent.log.

import type { CliContext } from './context.js';

export async function stopAgent(context: CliContext): Promise<void> {
  const agent = context.agentClient();
  if (!(await agent.isRunning())) {
    context.output.note('the agent is not running');
    return;
  }
  await agent.shutdown();
  context.output.note('the agent is stopping; connected resources are listened for again when it next starts');
}

export async function runAgentInForeground(context: CliContext): Promise<void> {
  const { createLogger } = await import('../log.js');
  const { startAgent } = await import('../agent/agent.js');
  const logger = createLogger({ name: 'sdm-agent', destination: context.io.stderr as NodeJS.WritableStream & { isTTY?: boolean } });

  const agent = await startAgent({ paths: context.paths, env: context.io.env, logger, keyring: context.deps.keyring });
  const signal = await Promise.race([context.io.waitForStop(), agent.closed.then(() => undefined)]);
  if (signal !== undefined) {
    logger.info({ signal }, 'stopping the agent');
  }
  await agent.close();
}
