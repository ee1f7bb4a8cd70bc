// Definition of `sdm demo`: the whole path on loopback, from src/demo/.

import type { Command } from 'commander';
import type { CliRun } from '../cli-run.js';

export function defineDemo(program: Command, run: CliRun): void {
  program
    .command('demo')
    .description('run a local PostgreSQL, identity emulator and node, connect through sdm, and query; all on loopback')
    .option('--once', 'stop and clean up after the query instead of waiting for Ctrl-C')
    .action((options: { once?: boolean }) =>
      run.action(
        () => import('../../demo/demo.js'),
        async (module, context) => {
          context.exitCode = await module.runDemo({ once: options.once === true, out: context.io.stdout as NodeJS.WritableStream });
        },
      ),
    );
}
