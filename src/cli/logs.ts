// `sdm logs connections` and `sdm logs queries`: the node's audit records.
// --follow keeps polling for records after the last row seen.

import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectionRecord, QueryRecord } from '../store/types.js';
import type { CliContext } from './context.js';
import type { NodeClient } from './node-client.js';
import { alignColumns } from './output.js';
import { parseTimeBound } from './time-range.js';

/** Pause between two polls of --follow. */
export const FOLLOW_POLL_INTERVAL_MS = 1_000;

type Kind = 'connections' | 'queries';
type LogRecord = (ConnectionRecord | QueryRecord) & { rowId: number };

export interface LogOptions {
  since?: string;
  until?: string;
  resource?: string;
  user?: string;
  limit?: number;
  json?: boolean;
  follow?: boolean;
}

export async function showLogs(context: CliContext, kind: Kind, options: LogOptions): Promise<void> {
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
