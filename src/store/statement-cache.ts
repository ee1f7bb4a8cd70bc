// Prepared statements of the embedded store, compiled once per SQL text.
// better-sqlite3 compiles a statement on every prepare() call. A new tunnel
// runs several lookups (token, user, resource, grants), so compiling them
// again took about 0.2 ms of each connection.

import type { Database, Statement } from 'better-sqlite3';
import { cachedValue } from '../bounded-cache.js';

/** The part of the database the store's tables use: statements by SQL text. */
export interface StatementSource {
  prepare(sql: string): Statement;
}

/** Distinct SQL texts kept. Listings build their WHERE clause from the filters given, so the set is finite but not tiny. */
const MAX_STATEMENTS = 256;

export class StatementCache implements StatementSource {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  prepare(sql: string): Statement {
    return cachedValue(this.statements, sql, MAX_STATEMENTS, () => this.db.prepare(sql));
  }
}
