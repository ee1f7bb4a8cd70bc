import { ValidationError } from '../../errors.js';
import type { LogQuery } from '../../store/types.js';
import { API_PREFIX } from '../../tunnel/admin-api.js';
import type { Route, RouteContext } from './router.js';

export const DEFAULT_LOG_LIMIT = 100;
export const MAX_LOG_LIMIT = 10_000;

export const logRoutes: Route[] = [
  {
    method: 'GET',
    pattern: new RegExp(`^${API_PREFIX}/logs/connections$`),
    adminOnly: true,
    handle: ({ query, deps }: RouteContext) => deps.store.listConnections(logQuery(query)),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^${API_PREFIX}/logs/queries$`),
    adminOnly: true,
    handle: ({ query, deps }: RouteContext) => deps.store.listQueries(logQuery(query)),
  },
];

function logQuery(query: URLSearchParams): LogQuery {
  return {
    since: timestamp(query, 'since'),
    until: timestamp(query, 'until'),
    resource: query.get('resource') ?? undefined,
    user: query.get('user') ?? undefined,
    afterId: integer(query, 'after', 0, Number.MAX_SAFE_INTEGER),
    limit: integer(query, 'limit', 1, MAX_LOG_LIMIT) ?? DEFAULT_LOG_LIMIT,
  };
}

function timestamp(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  if (value === null) {
    return undefined;
  }
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new ValidationError(name, `invalid ${name} "${value}": expected an ISO 8601 timestamp`);
  }
  return new Date(time).toISOString();
}

function integer(query: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const value = query.get(name);
  if (value === null) {
    return undefined;
  }
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new ValidationError(name, `invalid ${name} "${value}": expected an integer from ${min} to ${max}`);
  }
  return number;
}
