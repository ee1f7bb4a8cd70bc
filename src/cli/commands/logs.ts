// Definitions of `sdm logs connections` and `sdm logs queries`; the actions are in ../logs.ts.

import type { Command } from 'commander';
import { MAX_LOG_LIMIT, parseLimit } from '../arg-parsers.js';
import type { CliRun } from '../cli-run.js';
import type { LogOptions } from '../logs.js';

export function defineLogs(program: Command, run: CliRun): void {
  const logs = program.command('logs').description('read the audit log of the node (needs an admin)');

  for (const [kind, description] of [
    ['connections', 'who connected to which resource, when, and how it ended'],
    ['queries', 'statements sent through the node'],
  ] as const) {
    logs
      .command(kind)
      .description(description)
      .option('--since <time>', 'from this time: a duration back from now (30m, 1h, 2d) or an ISO 8601 time')
      .option('--until <time>', 'up to this time, in the same forms')
      .option('--resource <name>', 'only this resource')
      .option('--user <email>', 'only this user')
      .option('--limit <n>', `records per request, at most ${MAX_LOG_LIMIT} (default 100, the latest ones)`, parseLimit)
      .option('--json', 'print JSON; with --follow, one object per line')
      .option('--follow', 'keep printing new records until interrupted')
      .action((options: LogOptions) =>
        run.action(
          () => import('../logs.js'),
          (module, context) => module.showLogs(context, kind, options),
        ),
      );
  }
}
