// Definition of `sdm listen`; the action is in ../listen.ts.

import type { Command } from 'commander';
import type { CliRun } from '../cli-run.js';

export function defineListen(program: Command, run: CliRun): void {
  program
    .command('listen')
    .description('run the agent in the foreground (sdm connect starts it in the background when it is not running)')
    .option('--stop', 'ask the running agent to stop, ending its listeners, and exit')
    .action((options: { stop?: boolean }) =>
      run.action(
        () => import('../listen.js'),
        (module, context) => (options.stop === true ? module.stopAgent(context) : module.runAgentInForeground(context)),
      ),
    );
}
