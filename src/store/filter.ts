// Resource filters of `sdm status`, `sdm connect` and `sdm resource list`.
// A filter reads `field:value`, and tags read `tags:key=value`. A `*` in the
// value matches any run of characters, and the comparison ignores case.
// Several filters joined by commas must all match.

import { ValidationError } from '../errors.js';
import type { Resource } from './types.js';
import { quoteValue } from './value-text.js';

/** Resource fields a filter may name. Tags are matched by key and value; the rest by their text. */
export const FILTER_FIELDS = [
  'name',
  'type',
  'hostname',
  'port',
  'database',
  'username',
  'clientId',
  'restrictDatabase',
  'singleServerUsernames',
  'portOverride',
  'bindIp',
  'tags',
  'proxyCluster',
  'secretStore',
  'tlsMode',
  'caPem',
  'createdAt',
  'updatedAt',
] as const satisfies ReadonlyArray<keyof Resource>;

export type FilterField = (typeof FILTER_FIELDS)[number];

export type FilterClause =
  | { field: Exclude<FilterField, 'tags'>; pattern: RegExp }
  /** A tag clause; `value` is null for `tags:key`, which matches any resource carrying the key. */
  | { field: 'tags'; key: RegExp; value: RegExp | null };

export interface ResourceFilter {
  /** The expression as given. */
  expression: string;
  clauses: FilterClause[];
}

/** A record a filter can be matched against: a resource, or any view that adds fields to one. */
export type FilterTarget = Partial<Resource>;

/** Parses a filter expression; throws ValidationError (field `filter`) listing the allowed fields. */
export function parseFilter(expression: string): ResourceFilter {
  if (expression.trim() === '') {
    throw malformed(expression, 'it is empty');
  }

  const parts = expression.split(',').map((part) => part.trim());
  return { expression, clauses: parts.map((part) => parseClause(part, expression)) };
}

/** Returns true when the record matches every clause of the filter. */
export function matchesFilter(resource: FilterTarget, filter: ResourceFilter): boolean {
  return filter.clauses.every((clause) => matchesClause(resource, clause));
}

/** Converts a glob where `*` matches any run of characters into an anchored, case-insensitive RegExp. */
export function globToRegExp(glob: string): RegExp {
  const source = glob
    .split('*')
    .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 'is');
}

function parseClause(part: string, expression: string): FilterClause {
  const colon = part.indexOf(':');
  if (colon < 0) {
    throw malformed(expression, `${quoteValue(part)} has no colon`);
  }

  const name = part.slice(0, colon).trim();
  const value = part.slice(colon + 1).trim();
  const field = FILTER_FIELDS.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  if (field === undefined) {
    throw malformed(expression, `field ${quoteValue(name)} is unknown`);
  }

  if (field !== 'tags') {
    return { field, pattern: globToRegExp(value) };
  }
  return parseTagClause(value, expression);
}

function parseTagClause(value: string, expression: string): FilterClause {
  const equals = value.indexOf('=');
  const key = equals < 0 ? value : value.slice(0, equals).trim();
  if (key === '') {
    throw malformed(expression, `tag filter ${quoteValue(value)} has no key`);
  }

  return {
    field: 'tags',
    key: globToRegExp(key),
    value: equals < 0 ? null : globToRegExp(value.slice(equals + 1).trim()),
  };
}

function matchesClause(resource: FilterTarget, clause: FilterClause): boolean {
  if (clause.field !== 'tags') {
    return clause.pattern.test(fieldText(resource[clause.field]));
  }

  return Object.entries(resource.tags ?? {}).some(
    ([key, value]) => clause.key.test(key) && (clause.value === null || clause.value.test(value)),
  );
}

// Absent and null fields read as empty text, so `proxyCluster:` matches resources without one.
function fieldText(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

function malformed(expression: string, problem: string): ValidationError {
  return new ValidationError(
    'filter',
    `invalid filter ${quoteValue(expression)}: ${problem}; expected field:value joined by commas, with fields ${FILTER_FIELDS.join(', ')} (tags as tags:key=value)`,
  );
}
