// Turns a LogQuery into SQL conditions shared by the connection and query logs.

import { ValidationError } from '../errors.js';
import type { LogQuery } from './types.js';
import { quoteValue } from './value-text.js';

/** Records a log listing returns when the query sets no limit. */
export const DEFAULT_LOG_LIMIT = 1000;

/** Largest `limit` a log listing accepts. */
export const MAX_LOG_LIMIT = 100_000;

/** Columns a log listing filters on, as named in its SELECT. */
export interface LogColumns {
  rowId: string;
  time: string;
  resource: string;
  user: string;
}

export interface LogSql {
  where: string;
  parameters: unknown[];
  limit: number;
  /** True when the rows come after `afterId`, oldest first; otherwise the newest rows are taken. */
  following: boolean;
}

/**
 * Builds the WHERE clause of a log listing over `columns`. `since` is
 * inclusive and `until` exclusive, both compared with the time column after
 * conversion to UTC ISO text, which is how the store writes every time.
 */
export function buildLogSql(query: LogQuery, columns: LogColumns): LogSql {
  const conditions: string[] = [];
  const parameters: unknown[] = [];

  const since = query.since === undefined ? undefined : normalizeTime(query.since, 'since');
  const until = query.until === undefined ? undefined : normalizeTime(query.until, 'until');
  if (since !== undefined && until !== undefined && since > until) {
    throw new ValidationError('until', `until ${until} is before since ${since}, so no record could match; expected since at or before until`);
  }
  if (since !== undefined) {
    conditions.push(`${columns.time} >= ?`);
    parameters.push(since);
  }
  if (until !== undefined) {
    conditions.push(`${columns.time} < ?`);
    parameters.push(until);
  }
  if (query.resource !== undefined) {
    conditions.push(`${columns.resource} = ?`);
    parameters.push(query.resource);
  }
  if (query.user !== undefined) {
    conditions.push(`${columns.user} = ? COLLATE NOCASE`);
    parameters.push(query.user.trim());
  }
  if (query.afterId !== undefined) {
    conditions.push(`${columns.rowId} > ?`);
    parameters.push(checkInteger(query.afterId, 'afterId', 0, Number.MAX_SAFE_INTEGER));
  }

  return {
    where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '',
    parameters,
    limit: query.limit === undefined ? DEFAULT_LOG_LIMIT : checkInteger(query.limit, 'limit', 1, MAX_LOG_LIMIT),
    following: query.afterId !== undefined,
  };
}

/** Converts a time to the UTC ISO form the logs store, or throws ValidationError naming the field. */
export function normalizeTime(value: unknown, field: string): string {
  const time = typeof value === 'string' && value.trim() !== '' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(time.getTime())) {
    throw new ValidationError(field, `invalid ${field} ${quoteValue(value)}: expected an ISO 8601 time such as 2025-01-31T09:00:00Z`);
  }
  return time.toISOString();
}

function checkInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, `invalid ${field} ${quoteValue(value)}: expected an integer from ${min} to ${max}`);
  }
  return value;
}
