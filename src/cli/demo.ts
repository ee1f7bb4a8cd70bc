// `sdm demo`: the whole path on loopback (PostgreSQL, the managed-identity
// emulator, a node, login, connect and a query), from src/demo/.

import type { Command } from 'commander';
import type { CliContext } from './context.js';

export function registerDemo(program: Command, context: CliContext): void {
  program
    .command('demo')
    .description('run a local PostgreSQL, identity emulator and node, connect through sdm, and query; all on loopback')
    .option('--once', 'stop and clean up after the query instead of waiting for Ctrl-C')
    .action(async (options: { once?: boolean }) => {
      const { runDemo } = await import('../demo/demo.js');
      context.exitCode = await runDemo({ once: options.once === true, out: context.io.stdout as NodeJS.WritableStream });
    });
}
