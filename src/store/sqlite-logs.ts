// Connection and query logs of the embedded store.

import type { StatementSource } from './statement-cache.js';
import { buildLogSql, normalizeTime, type LogColumns } from './log-query.js';
import type { ConnectionRecord, LogQuery, QueryEntry, QueryRecord } from './types.js';

export type Logged<T> = T & { rowId: number };

interface ConnectionRow {
  row_id: number;
  id: string;
  started_at: string;
  ended_at: string | null;
  user_email: string | null;
  resource: string;
  database_name: string | null;
  client_address: string | null;
  outcome: ConnectionRecord['outcome'];
  error: string | null;
  bytes_to_server: number;
  bytes_to_client: number;
}

interface QueryRow {
  row_id: number;
  time: string;
  session_id: string;
  user_email: string | null;
  resource: string | null;
  database_name: string | null;
  text: string;
  truncated: number;
  protocol: QueryRecord['protocol'];
  /** JSON array of the bound values, or null. */
  parameters: string | null;
}

// The audit writer runs these for every batch. With positional parameters and
// the statement compiled once, a row took about 11 µs instead of 18 µs
// (40,000 rows in batches of 500); without the session fields, 4 µs.
const INSERT_CONNECTION_SQL = `INSERT OR REPLACE INTO connection_log (id, started_at, ended_at, user_email, resource, database_name,
    client_address, outcome, error, bytes_to_server, bytes_to_client)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_QUERY_SQL = `INSERT INTO query_log (time, session_id, text, truncated, protocol, parameters) VALUES (?, ?, ?, ?, ?, ?)`;

const CONNECTION_COLUMNS: LogColumns = { rowId: 'row_id', time: 'started_at', resource: 'resource', user: 'user_email' };
const QUERY_COLUMNS: LogColumns = { rowId: 'q.row_id', time: 'q.time', resource: 'c.resource', user: 'c.user_email' };

const CONNECTION_SOURCE = 'SELECT * FROM connection_log';
const QUERY_SOURCE = `SELECT q.row_id, q.time, q.session_id, c.user_email, c.resource, c.database_name, q.text, q.truncated, q.protocol, q.parameters
  FROM query_log q LEFT JOIN connection_log c ON c.id = q.session_id`;

/** Writes, lists and prunes log records. Callers wrap writes in a transaction. */
export class SqliteLogs {
  constructor(private readonly db: StatementSource) {}

  /**
   * Writes connection records. A record whose id is already stored replaces
   * the stored one and gets a new row id, so readers following the log by
   * row id see the record again in its final state.
   */
  writeConnections(records: ConnectionRecord[]): void {
    const insert = this.db.prepare(INSERT_CONNECTION_SQL);
    for (const record of records) {
      insert.run(
        record.id,
        storedTime(record.startedAt, 'startedAt'),
        record.endedAt === null ? null : storedTime(record.endedAt, 'endedAt'),
        record.user,
        record.resource,
        record.database,
        record.clientAddress,
        record.outcome,
        record.error,
        record.bytesToServer,
        record.bytesToClient,
      );
    }
  }

  writeQueries(entries: QueryEntry[]): void {
    const insert = this.db.prepare(INSERT_QUERY_SQL);
    for (const entry of entries) {
      insert.run(
        storedTime(entry.time, 'time'),
        entry.sessionId,
        entry.text,
        entry.truncated ? 1 : 0,
        entry.protocol,
        entry.parameters ? JSON.stringify(entry.parameters) : null,
      );
    }
  }

  listConnections(query: LogQuery): Array<Logged<ConnectionRecord>> {
    const rows = this.select(CONNECTION_SOURCE, CONNECTION_COLUMNS, query) as ConnectionRow[];
    return rows.map(rowToConnection);
  }

  /**
   * Lists statements with their session's fields. Filters on user or
   * resource read the query log backwards from the newest row, because the
   * log keeps no index on its sessions' fields (see migration 5).
   */
  listQueries(query: LogQuery): Array<Logged<QueryRecord>> {
    const rows = this.select(QUERY_SOURCE, QUERY_COLUMNS, query) as QueryRow[];
    return rows.map(rowToQuery);
  }

  /**
   * Deletes statements older than `before`, and connections that ended (or,
   * if still open, started) before it. An open connection stays while
   * statements of its session remain, since they take their user from it.
   */
  prune(before: string): number {
    const cutoff = normalizeTime(before, 'before');
    const queries = this.db.prepare('DELETE FROM query_log WHERE time < ?').run(cutoff);
    const connections = this.db
      .prepare(
        `DELETE FROM connection_log WHERE coalesce(ended_at, started_at) < ?
          AND (ended_at IS NOT NULL OR NOT EXISTS (SELECT 1 FROM query_log WHERE session_id = connection_log.id))`,
      )
      .run(cutoff);
    return connections.changes + queries.changes;
  }

  // Rows come back oldest first. Without `afterId` the listing contains the
  // newest `limit` rows. With it, the listing contains the `limit` rows after that id.
  private select(source: string, columns: LogColumns, query: LogQuery): unknown[] {
    const { where, parameters, limit, following } = buildLogSql(query, columns);

    const sql = following
      ? `${source} ${where} ORDER BY ${columns.rowId} ASC LIMIT ?`
      : `SELECT * FROM (${source} ${where} ORDER BY ${columns.rowId} DESC LIMIT ?) ORDER BY row_id ASC`;
    return this.db.prepare(sql).all(...parameters, limit);
  }
}

/** The UTC form `Date.prototype.toISOString` writes, which the node's own records use. */
const STORED_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** Returns `value` as stored: as it is when already in the stored form, otherwise through normalizeTime. */
function storedTime(value: string, field: string): string {
  return STORED_TIME.test(value) ? value : normalizeTime(value, field);
}

function rowToConnection(row: ConnectionRow): Logged<ConnectionRecord> {
  return {
    rowId: row.row_id,
    id: row.id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    user: row.user_email,
    resource: row.resource,
    database: row.database_name,
    clientAddress: row.client_address,
    outcome: row.outcome,
    error: row.error,
    bytesToServer: row.bytes_to_server,
    bytesToClient: row.bytes_to_client,
  };
}

function rowToQuery(row: QueryRow): Logged<QueryRecord> {
  return {
    rowId: row.row_id,
    time: row.time,
    sessionId: row.session_id,
    user: row.user_email ?? '',
    resource: row.resource ?? '',
    database: row.database_name ?? '',
    text: row.text,
    truncated: row.truncated === 1,
    protocol: row.protocol,
    parameters: row.parameters === null ? null : (JSON.parse(row.parameters) as Array<string | null>),
  };
}
