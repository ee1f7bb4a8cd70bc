// `sdm logs connections` and `sdm logs queries`: the node's audit records.
// --follow keeps polling for records after the last row seen.

import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectionRecord, QueryRecord } from '../store/types.js';
import type { CliContext } from './context.js';
import type { NodeClient } from './node-client.js';
import { alignColumns } from './output.js';
import { parseTimeBound } from './time-range.js';

/** Records per request when --limit is not given (DEFAULT_LOG_LIMIT of the admin API). */
const DEFAULT_LIMIT = 100;

type Kind = 'connections' | 'queries';
type LogRecord = (ConnectionRecord | QueryRecord) & { rowId: number };
type LogRequest = Record<string, string | number | undefined>;

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
  // --follow continues after the newest row id the node returns,
  // read before the first page, so that neither the client's clock nor a
  // page of older records decides where it starts.
  const newest = options.follow === true ? await newestRowId(client, kind) : undefined;
  const records = await client.get<LogRecord[]>(`/v1/logs/${kind}`, query);

  if (options.follow !== true) {
    await printPage(context, kind, records, options.json === true);
    return;
  }
  printLines(context, kind, records, options.json === true);
  await follow(context, client, kind, query, maxDefined(newest, lastRowId(records)) ?? 0, options.json === true);
}

/**
 * Polls for records after the last row read. A poll that returns a full
 * page is followed by the next one at once, so --follow keeps up with a busy
 * node whatever --limit is.
 */
async function follow(context: CliContext, client: NodeClient, kind: Kind, query: LogRequest, start: number, json: boolean): Promise<void> {
  let stopped = false;
  const stop = context.io.waitForStop().then(() => {
    stopped = true;
  });

  let after = start;
  const limit = (query.limit as number | undefined) ?? DEFAULT_LIMIT;
  const filtered = query.user !== undefined || query.resource !== undefined;
  let fullPage = false;
  while (!stopped) {
    if (!fullPage) {
      await Promise.race([sleep(context.followIntervalMs()), stop]);
      if (stopped) {
        break;
      }
    }
    const scannedThrough = kind === 'queries' && filtered ? await newestRowId(client, kind) : undefined;
    const records = await client.get<LogRecord[]>(`/v1/logs/${kind}`, { ...query, since: undefined, after });
    printLines(context, kind, records, json);

    fullPage = records.length === limit;
    after = fullPage ? lastRowId(records)! : maxDefined(after, lastRowId(records), scannedThrough)!;
  }
}

/**
 * Returns the id of the newest row of the log, or undefined while it is
 * empty. Read before a filtered poll of the query log, it lets the next poll
 * continue after it: every statement up to it that matched is in that poll's
 * response unless the page was full. So a poll does not scan again all the
 * statements of other users and resources since the last match. The node
 * finds connection records by user and resource through indexes, so their
 * polls need no such step.
 */
async function newestRowId(client: NodeClient, kind: Kind): Promise<number | undefined> {
  return lastRowId(await client.get<LogRecord[]>(`/v1/logs/${kind}`, { limit: 1 }));
}

function maxDefined(...values: Array<number | undefined>): number | undefined {
  const defined = values.filter((value): value is number => value !== undefined);
  return defined.length === 0 ? undefined : Math.max(...defined);
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
