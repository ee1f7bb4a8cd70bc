// `sdm logs connections` and `sdm logs queries`: the node's audit records.
// --follow keeps polling for records after the last row seen.

import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectionRecord, QueryRecord } from '../store/types.js';
import type { CliContext } from './context.js';
import type { NodeClient } from './node-client.js';
import { alignColumns } from './output.js';
import { parseTimeBound } from './time-range.js';

/** Pause between two polls of --follow. */
export const FOLLOW_POLL_INTERVAL_MS = 1_000;

/** Largest page the node returns (MAX_LOG_LIMIT of the admin API). */
const MAX_LOG_LIMIT = 10_000;

type Kind = 'connections' | 'queries';
type LogRecord = (ConnectionRecord | QueryRecord) & { rowId: number };

interface LogOptions {
  since?: string;
  until?: string;
  resource?: string;
  user?: string;
  limit?: number;
  json?: boolean;
  follow?: boolean;
}

export function registerLogs(program: Command, context: CliContext): void {
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
      .action((options: LogOptions) => showLogs(context, kind, options));
  }
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > MAX_LOG_LIMIT) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_LOG_LIMIT}.`);
  }
  return limit;
}

async function showLogs(context: CliContext, kind: Kind, options: LogOptions): Promise<void> {
  const now = context.now();
  const query = {
    since: options.since === undefined ? undefined : parseTimeBound(options.since, now, '--since'),
    until: options.until === undefined ? undefined : parseTimeBound(options.until, now, '--until'),
    resource: options.resource,
    user: options.user,
    limit: options.limit,
  };
  const client = await context.nodeClient();
  const records = await client.get<LogRecord[]>(`/v1/logs/${kind}`, query);

  if (options.follow !== true) {
    await printPage(context, kind, records, options.json === true);
    return;
  }
  printLines(context, kind, records, options.json === true);
  await follow(context, client, kind, { ...query, after: lastRowId(records) }, options.json === true);
}

async function follow(context: CliContext, client: NodeClient, kind: Kind, query: Record<string, string | number | undefined>, json: boolean): Promise<void> {
  let stopped = false;
  const stop = context.io.waitForStop().then(() => {
    stopped = true;
  });

  // Until a first record arrives there is no row to continue after, so the
  // poll requests records since the start of --follow instead.
  let after = query.after;
  const since = query.since ?? context.now().toISOString();
  while (!stopped) {
    await Promise.race([sleep(FOLLOW_POLL_INTERVAL_MS), stop]);
    if (stopped) {
      break;
    }
    const records = await client.get<LogRecord[]>(`/v1/logs/${kind}`, { ...query, since: after === undefined ? since : undefined, after });
    printLines(context, kind, records, json);
    after = lastRowId(records) ?? after;
  }
}

function lastRowId(records: LogRecord[]): number | undefined {
  return records.length === 0 ? undefined : records[records.length - 1].rowId;
}

async function printPage(context: CliContext, kind: Kind, records: LogRecord[], json: boolean): Promise<void> {
  if (json) {
    context.output.json(records);
  } else if (kind === 'connections') {
    await context.output.table(['STARTED', 'USER', 'RESOURCE', 'DATABASE', 'CLIENT', 'OUTCOME', 'TO SERVER', 'TO CLIENT', 'ERROR'], (records as ConnectionRecord[]).map(connectionCells));
  } else {
    await context.output.table(['TIME', 'USER', 'RESOURCE', 'DATABASE', 'STATEMENT'], (records as QueryRecord[]).map(queryCells));
  }
}

/** Prints records one per line, as --follow does: JSON lines or space-separated cells. */
function printLines(context: CliContext, kind: Kind, records: LogRecord[], json: boolean): void {
  for (const record of records) {
    if (json) {
      context.output.line(JSON.stringify(record));
    } else {
      const cells = kind === 'connections' ? connectionCells(record as ConnectionRecord) : queryCells(record as QueryRecord);
      context.io.stdout.write(alignColumns([cells]));
    }
  }
}

function connectionCells(record: ConnectionRecord): string[] {
  return [
    record.startedAt,
    record.user ?? '-',
    record.resource,
    record.database ?? '-',
    record.clientAddress ?? '-',
    record.outcome,
    String(record.bytesToServer),
    String(record.bytesToClient),
    record.error ?? '',
  ];
}

function queryCells(record: QueryRecord): string[] {
  const text = record.text.replace(/\s+/g, ' ').trim();
  return [record.time, record.user, record.resource, record.database, record.truncated ? `${text}…` : text];
}
