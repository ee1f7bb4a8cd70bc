// The query log of the embedded store. Each write of the audit writer stores
// its statements as one row: a JSON array in which every statement carries
// its own id. The row's id is the id of its last statement, so AUTOINCREMENT
// keeps statement ids from being reused after pruning. A statement's user,
// resource and database are those of its session and are kept once, in the
// connection log.
//
// One row per statement cost the node 4 to 11 µs of CPU per statement, most of
// it in SQLite. With one row per batch, scanning, queueing and storing a
// statement costs about 2 µs in all (docs/benchmarks.md).
// Listings read batches newest or oldest first, let SQLite skip the batches
// without a session of a filtered user or resource, and match the statements
// of the others in JavaScript.

import { ValidationError } from '../errors.js';
import { EventLoopPacer } from '../event-loop-pacer.js';
import { parseLogQuery, storedTime, type ParsedLogQuery } from './log-query.js';
import type { StatementSource } from './statement-cache.js';
import type { LogQuery, QueryEntry, QueryProtocol, QueryRecord } from './types.js';

type Logged<T> = T & { rowId: number };

/** A statement as stored: id, time, session id, text, truncated (1) or not (0), protocol, bound values. */
type StoredStatement = [number, string, string, string, 0 | 1, QueryProtocol, Array<string | null> | null];

interface BatchRow {
  row_id: number;
  statements: string;
}

interface SessionFields {
  user: string;
  resource: string;
  database: string;
}

const LAST_ID_SQL = "SELECT seq FROM sqlite_sequence WHERE name = 'query_log_batches'";
const INSERT_BATCH_SQL = 'INSERT INTO query_log_batches (row_id, first_id, min_time, max_time, count, statements) VALUES (?, ?, ?, ?, ?, ?)';
const SESSION_SQL = 'SELECT user_email, resource, database_name FROM connection_log WHERE id = ?';

/** Batches read per SELECT, after the first, while a listing looks for matching statements. */
const BATCHES_PER_READ = 4;

/**
 * Statement text, in UTF-16 code units, after which a batch is closed and
 * the rest of the write goes to the next one. A listing holds up to
 * BATCHES_PER_READ batches in memory at once, and one statement keeps up to
 * 64 KiB of text, so this keeps each read to a few MiB.
 */
export const MAX_BATCH_TEXT_LENGTH = 512 * 1024;

/** Writes, lists and prunes the query log. Callers wrap writes in a transaction. */
export class SqliteQueryLog {
  constructor(private readonly db: StatementSource) {}

  /**
   * Stores the entries as one batch, or as several when their text passes
   * MAX_BATCH_TEXT_LENGTH. Throws ValidationError when an entry is malformed;
   * the caller's transaction then stores none of them.
   */
  write(entries: QueryEntry[]): void {
    let nextId = ((this.db.prepare(LAST_ID_SQL).get() as { seq: number } | undefined)?.seq ?? 0) + 1;
    let batch: StoredStatement[] = [];
    let textLength = 0;

    for (const entry of entries) {
      checkEntry(entry);
      batch.push([nextId, storedTime(entry.time, 'time'), entry.sessionId, entry.text, entry.truncated ? 1 : 0, entry.protocol, entry.parameters ?? null]);
      nextId += 1;
      textLength += entry.text.length;
      if (textLength >= MAX_BATCH_TEXT_LENGTH) {
        this.insert(batch);
        batch = [];
        textLength = 0;
      }
    }
    if (batch.length > 0) {
      this.insert(batch);
    }
  }

  /**
   * Lists statements oldest first: the newest `limit` that match, or with
   * `afterId` the first `limit` after it. The event loop runs after each read
   * of batches, and between batches once WORK_SLICE_MS have passed. So a
   * listing that scans much of the log delays relayed sessions only a few
   * milliseconds at a time.
   */
  async list(query: LogQuery): Promise<Array<Logged<QueryRecord>>> {
    const parsed = parseLogQuery(query);
    const sessions = new SessionCache(this.db);
    const found: Array<Logged<QueryRecord>> = [];
    const done = () => (parsed.following ? found : found.reverse());

    const reader = this.batchReader(parsed);
    let cursor = parsed.following ? (parsed.afterId ?? 0) : Number.MAX_SAFE_INTEGER;
    // The first read takes one batch, which is all a small listing needs.
    let batchesToRead = 1;
    const pacer = new EventLoopPacer();
    for (;;) {
      const window = reader.window(cursor, batchesToRead);
      if (window.length === 0) {
        return done();
      }
      const rows = reader.rows(window[0], window[window.length - 1]);
      for (const row of rows) {
        await pacer.pause();
        const statements = JSON.parse(row.statements) as StoredStatement[];
        if (!parsed.following) {
          statements.reverse();
        }
        for (const statement of statements) {
          const record = matchingRecord(statement, parsed, sessions);
          if (record) {
            found.push(record);
            if (found.length === parsed.limit) {
              return done();
            }
          }
        }
      }
      if (window.length < batchesToRead) {
        return done();
      }
      cursor = window[window.length - 1];
      batchesToRead = BATCHES_PER_READ;
      await pacer.yield();
    }
  }

  /** Deletes statements older than `before` (stored form); returns how many went. */
  prune(before: string): number {
    const whole = this.db.prepare('SELECT coalesce(sum(count), 0) AS count FROM query_log_batches WHERE max_time < ?').get(before) as { count: number };
    this.db.prepare('DELETE FROM query_log_batches WHERE max_time < ?').run(before);

    // Batches that hold statements on both sides of the cutoff keep the newer ones.
    let partial = 0;
    const straddling = this.db.prepare('SELECT row_id, statements FROM query_log_batches WHERE min_time < ?').all(before) as BatchRow[];
    for (const batch of straddling) {
      const statements = JSON.parse(batch.statements) as StoredStatement[];
      const kept = statements.filter((statement) => statement[1] >= before);
      partial += statements.length - kept.length;
      const minTime = kept.reduce((min, statement) => (statement[1] < min ? statement[1] : min), kept[0][1]);
      this.db
        .prepare('UPDATE query_log_batches SET first_id = ?, min_time = ?, count = ?, statements = ? WHERE row_id = ?')
        .run(kept[0][0], minTime, kept.length, JSON.stringify(kept), batch.row_id);
    }
    return whole.count + partial;
  }

  private insert(batch: StoredStatement[]): void {
    let minTime = batch[0][1];
    let maxTime = minTime;
    for (const [, time] of batch) {
      minTime = time < minTime ? time : minTime;
      maxTime = time > maxTime ? time : maxTime;
    }
    const lastId = batch[batch.length - 1][0];
    this.db.prepare(INSERT_BATCH_SQL).run(lastId, batch[0][0], minTime, maxTime, batch.length, JSON.stringify(batch));
  }

  /**
   * Returns a reader of the batches a listing visits, in listing order: the
   * row ids of the next few batches in the time range, then those of them
   * that may hold a matching statement. With a user or resource filter, a
   * batch is read only when it contains the id of a session of that user or
   * resource that was open during the batch, which SQLite checks without
   * decoding the batch. The statements of the batches read are still
   * matched one by one.
   */
  private batchReader(query: ParsedLogQuery): BatchReader {
    const order = query.following ? 'ASC' : 'DESC';
    const timeConditions: string[] = [];
    const timeParameters: unknown[] = [];
    if (query.since !== undefined) {
      timeConditions.push('max_time >= ?');
      timeParameters.push(query.since);
    }
    if (query.until !== undefined) {
      timeConditions.push('min_time < ?');
      timeParameters.push(query.until);
    }

    const window = this.db.prepare(
      `SELECT row_id FROM query_log_batches WHERE ${[query.following ? 'row_id > ?' : 'row_id < ?', ...timeConditions].join(' AND ')}
        ORDER BY row_id ${order} LIMIT ?`,
    );
    const session = sessionCondition(query);
    const rows = this.db.prepare(
      `SELECT row_id, statements FROM query_log_batches b
        WHERE ${['row_id BETWEEN ? AND ?', ...timeConditions, ...(session ? [session.sql] : [])].join(' AND ')}
        ORDER BY row_id ${order}`,
    );
    const sessionParameters = session?.parameters ?? [];

    return {
      window: (cursor, count) => window.pluck().all(cursor, ...timeParameters, count) as number[],
      rows: (first, last) => rows.all(Math.min(first, last), Math.max(first, last), ...timeParameters, ...sessionParameters) as BatchRow[],
    };
  }
}

interface BatchReader {
  /** Row ids of up to `count` batches after (or before) `cursor` in the time range, in listing order. */
  window(cursor: number, count: number): number[];
  /** The batches from row id `first` to `last` that may hold matching statements, in listing order. */
  rows(first: number, last: number): BatchRow[];
}

// NOTE: the time test assumes a session's statements fall between its
// start and end times, all from the node's clock. A clock stepped back
// during a session could hide its batches from a user or resource filter.
function sessionCondition(query: ParsedLogQuery): { sql: string; parameters: unknown[] } | undefined {
  const conditions: string[] = [];
  const parameters: unknown[] = [];
  if (query.user !== undefined) {
    conditions.push('c.user_email = ? COLLATE NOCASE');
    parameters.push(query.user);
  }
  if (query.resource !== undefined) {
    conditions.push('c.resource = ?');
    parameters.push(query.resource);
  }
  if (conditions.length === 0) {
    return undefined;
  }
  conditions.push('c.started_at <= b.max_time', '(c.ended_at IS NULL OR c.ended_at >= b.min_time)', 'instr(b.statements, json_quote(c.id)) > 0');
  return { sql: `EXISTS (SELECT 1 FROM connection_log c WHERE ${conditions.join(' AND ')})`, parameters };
}

/** The session fields of each session id, read from the connection log once per listing. */
class SessionCache {
  private readonly sessions = new Map<string, SessionFields>();

  constructor(private readonly db: StatementSource) {}

  get(sessionId: string): SessionFields {
    let fields = this.sessions.get(sessionId);
    if (!fields) {
      const row = this.db.prepare(SESSION_SQL).get(sessionId) as { user_email: string | null; resource: string; database_name: string | null } | undefined;
      fields = { user: row?.user_email ?? '', resource: row?.resource ?? '', database: row?.database_name ?? '' };
      this.sessions.set(sessionId, fields);
    }
    return fields;
  }
}

function matchingRecord(statement: StoredStatement, query: ParsedLogQuery, sessions: SessionCache): Logged<QueryRecord> | undefined {
  const [id, time, sessionId, text, truncated, protocol, parameters] = statement;
  if (
    (query.afterId !== undefined && id <= query.afterId) ||
    (query.since !== undefined && time < query.since) ||
    (query.until !== undefined && time >= query.until)
  ) {
    return undefined;
  }

  const session = sessions.get(sessionId);
  if ((query.resource !== undefined && session.resource !== query.resource) || (query.user !== undefined && !sameAsciiCaseless(session.user, query.user))) {
    return undefined;
  }
  return { rowId: id, time, sessionId, ...session, text, truncated: truncated === 1, protocol, parameters };
}

/** Compares like SQLite's NOCASE, which the connection log's user filter uses: ASCII letters only fold. */
function sameAsciiCaseless(left: string, right: string): boolean {
  return left.length === right.length && left.replace(/[A-Z]/g, lower) === right.replace(/[A-Z]/g, lower);
}

function lower(letter: string): string {
  return letter.toLowerCase();
}

function checkEntry(entry: QueryEntry): void {
  if (typeof entry.text !== 'string' || typeof entry.sessionId !== 'string') {
    throw new ValidationError('text', 'invalid query entry: expected text and sessionId to be strings');
  }
  if (entry.protocol !== 'simple' && entry.protocol !== 'extended') {
    throw new ValidationError('protocol', `invalid protocol ${JSON.stringify(entry.protocol)}: expected simple or extended`);
  }
}
