import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { matchesFilter, parseFilter } from '../../src/store/filter.js';
import type { Resource } from '../../src/store/types.js';

const ORDERS: Resource = {
  name: 'orders-prod',
  type: 'azure-postgres-mi',
  hostname: 'orders.postgres.database.azure.com',
  port: 5432,
  database: 'orders',
  username: 'orders-reader',
  clientId: '11111111-2222-3333-4444-555555555555',
  restrictDatabase: true,
  singleServerUsernames: false,
  portOverride: null,
  bindIp: '127.0.0.1',
  tags: { env: 'prod', team: 'data-platform' },
  proxyCluster: null,
  secretStore: 'built-in',
  tlsMode: 'verify-full',
  caPem: null,
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
};

// Each row: a filter expression and whether it matches ORDERS.
const MATCHES: Array<[string, boolean]> = [
  ['name:orders-prod', true],
  ['name:orders', false],
  ['name:orders*', true],
  ['name:*prod', true],
  ['name:*ders-pr*', true],
  ['name:ORDERS-PROD', true],
  ['name:billing*', false],
  ['name:*', true],
  ['type:azure-postgres-mi', true],
  ['hostname:*.database.azure.com', true],
  ['hostname:*.example.com', false],
  ['database:orders', true],
  ['username:orders-*', true],
  ['port:5432', true],
  ['port:6432', false],
  ['restrictDatabase:true', true],
  ['tlsMode:verify-*', true],
  ['proxyCluster:', true],
  ['tags:env=prod', true],
  ['tags:env=dev', false],
  ['tags:team=data-*', true],
  ['tags:env=PROD', true],
  ['tags:env', true],
  ['tags:owner', false],
  ['tags:owner=*', false],
  ['name:orders*,tags:env=prod', true],
  ['name:orders*, tags:env=dev', false],
  ['Name:orders-prod', true],
  ['name:orders.prod', false],
];

describe('matchesFilter', () => {
  it.each(MATCHES)('%s is %s', (expression, expected) => {
    expect(matchesFilter(ORDERS, parseFilter(expression))).toBe(expected);
  });

  it('partial record', () => {
    expect(matchesFilter({ name: 'orders', tags: { env: 'prod' } }, parseFilter('name:ord*,tags:env=prod'))).toBe(true);
  });

  it('record without tags', () => {
    expect(matchesFilter({ name: 'orders' }, parseFilter('tags:env=prod'))).toBe(false);
  });
});

describe('parseFilter', () => {
  it('clauses', () => {
    const filter = parseFilter('name:a*, tags:env=prod');

    expect(filter.clauses).toHaveLength(2);
    expect(filter.clauses[0].field).toBe('name');
    expect(filter.clauses[1].field).toBe('tags');
  });

  const MALFORMED: Array<[string, string]> = [
    ['name', '"name" has no colon'],
    ['colour:blue', 'field "colour" is unknown'],
    ['name:a,', '"" has no colon'],
    ['', 'it is empty'],
    ['tags:=prod', 'has no key'],
  ];

  it.each(MALFORMED)('malformed %j', (expression, problem) => {
    let error: unknown;
    try {
      parseFilter(expression);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('invalid_value');
    expect((error as ValidationError).field).toBe('filter');
    expect((error as ValidationError).message).toContain(problem);
    expect((error as ValidationError).message).toContain('name, type, hostname, port, database, username');
  });
});
