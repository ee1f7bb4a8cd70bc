import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { ExitCode } from '../../src/exit-codes.js';
import { StoreError } from '../../src/store/store-error.js';
import { hashApiToken } from '../../src/store/token-hash.js';
import type { Store } from '../../src/store/types.js';
import { fakeTokenHash, openTempStore, resourceInput, type TempStore } from './temp-store.js';

let temp: TempStore;
let store: Store;

beforeEach(async () => {
  temp = await openTempStore();
  store = temp.store;
});

afterEach(async () => {
  await temp.cleanup();
});

describe('resources', () => {
  it('add and get', async () => {
    const added = await store.addResource(resourceInput({ tags: { env: 'prod', team: 'data' }, portOverride: 15432 }));
    const fetched = await store.getResource('orders');

    expect(fetched).toEqual(added);
    expect(fetched?.tags).toEqual({ env: 'prod', team: 'data' });
    expect(fetched?.portOverride).toBe(15432);
    expect(fetched?.restrictDatabase).toBe(false);
    expect(typeof fetched?.createdAt).toBe('string');
  });

  it('list sorted by name', async () => {
    await store.addResource(resourceInput({ name: 'zeta' }));
    await store.addResource(resourceInput({ name: 'alpha' }));

    const names = (await store.listResources()).map((resource) => resource.name);
    expect(names).toEqual(['alpha', 'zeta']);
  });

  it('get unknown returns undefined', async () => {
    expect(await store.getResource('missing')).toBeUndefined();
  });

  it('update replaces fields', async () => {
    await store.addResource(resourceInput());

    const updated = await store.updateResource('orders', resourceInput({ port: 6432, restrictDatabase: true, caPem: 'x' }));

    expect(updated.port).toBe(6432);
    expect(updated.restrictDatabase).toBe(true);
    expect(updated.caPem).toBe('x');
  });

  it('update renames and keeps grants', async () => {
    await store.addResource(resourceInput());
    await store.addRole('readers');
    await store.grant('readers', { resource: 'orders' });

    await store.updateResource('orders', resourceInput({ name: 'orders-v2' }));

    expect(await store.getResource('orders')).toBeUndefined();
    expect((await store.listRoles())[0].resources).toEqual(['orders-v2']);
  });

  it('update unknown is not_found', async () => {
    const error = await store.updateResource('missing', resourceInput()).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('not_found');
    expect((error as StoreError).exitCode).toBe(ExitCode.NOT_FOUND);
    expect((error as StoreError).message).toContain('"missing"');
  });

  it('delete removes grants and health', async () => {
    await store.addResource(resourceInput());
    await store.putHealth({ resource: 'orders', state: 'healthy', checkedAt: '2025-01-01T00:00:00.000Z', durationMs: 12, error: null });
    await store.addRole('readers');
    await store.grant('readers', { resource: 'orders' });

    expect(await store.deleteResource('orders')).toBe(true);
    expect(await store.getHealth('orders')).toBeUndefined();
    expect((await store.listRoles())[0].resources).toEqual([]);

    await store.addResource(resourceInput());
    expect(await store.getHealth('orders')).toBeUndefined();
    expect((await store.listRoles())[0].resources).toEqual([]);
  });

  it('delete unknown returns false', async () => {
    expect(await store.deleteResource('missing')).toBe(false);
  });
});

describe('resource conflicts', () => {
  it('duplicate name leaves data unchanged', async () => {
    const original = await store.addResource(resourceInput({ hostname: 'first.example.com' }));

    const error = await store.addResource(resourceInput({ hostname: 'second.example.com' })).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('conflict');
    expect((error as StoreError).exitCode).toBe(ExitCode.CONFLICT);
    expect((error as StoreError).field).toBe('name');
    expect((error as StoreError).message).toContain('"orders"');
    expect(await store.listResources()).toEqual([original]);
  });

  it('duplicate port override on same IP', async () => {
    await store.addResource(resourceInput({ name: 'a', portOverride: 15432 }));

    const error = await store.addResource(resourceInput({ name: 'b', portOverride: 15432 })).catch((caught: unknown) => caught);

    expect((error as StoreError).code).toBe('conflict');
    expect((error as StoreError).field).toBe('portOverride');
    expect((error as StoreError).message).toContain('15432');
    expect((error as StoreError).message).toContain('"a"');
    expect(await store.getResource('b')).toBeUndefined();
  });

  it('same port override on another IP', async () => {
    await store.addResource(resourceInput({ name: 'a', portOverride: 15432 }));
    const second = await store.addResource(resourceInput({ name: 'b', portOverride: 15432, bindIp: '127.0.0.2' }));

    expect(second.portOverride).toBe(15432);
    expect(second.bindIp).toBe('127.0.0.2');
  });

  it('null port overrides never collide', async () => {
    await store.addResource(resourceInput({ name: 'a' }));
    await store.addResource(resourceInput({ name: 'b' }));

    expect(await store.listResources()).toHaveLength(2);
  });

  it('update into taken port leaves data unchanged', async () => {
    await store.addResource(resourceInput({ name: 'a', portOverride: 15432 }));
    const b = await store.addResource(resourceInput({ name: 'b', portOverride: 15433 }));

    const error = await store.updateResource('b', resourceInput({ name: 'b', portOverride: 15432, port: 6000 })).catch((caught: unknown) => caught);

    expect((error as StoreError).code).toBe('conflict');
    expect(await store.getResource('b')).toEqual(b);
  });

  it('update rename onto taken name', async () => {
    await store.addResource(resourceInput({ name: 'a' }));
    const b = await store.addResource(resourceInput({ name: 'b' }));

    const error = await store.updateResource('b', resourceInput({ name: 'a' })).catch((caught: unknown) => caught);

    expect((error as StoreError).code).toBe('conflict');
    expect((error as StoreError).field).toBe('name');
    expect(await store.getResource('b')).toEqual(b);
  });

  it('update keeping own port override', async () => {
    await store.addResource(resourceInput({ portOverride: 15432 }));

    const updated = await store.updateResource('orders', resourceInput({ portOverride: 15432, port: 6000 }));

    expect(updated.port).toBe(6000);
  });
});

describe('health', () => {
  it('put and replace', async () => {
    await store.addResource(resourceInput());

    await store.putHealth({ resource: 'orders', state: 'healthy', checkedAt: '2025-01-01T00:00:00.000Z', durationMs: 12, error: null });
    await store.putHealth({ resource: 'orders', state: 'unhealthy', checkedAt: '2025-01-01T00:01:00.000Z', durationMs: 5000, error: 'timed out' });

    expect(await store.getHealth('orders')).toEqual({
      resource: 'orders',
      state: 'unhealthy',
      checkedAt: '2025-01-01T00:01:00.000Z',
      durationMs: 5000,
      error: 'timed out',
    });
  });

  it('put for unknown resource', async () => {
    const error = await store.putHealth({ resource: 'missing', state: 'healthy', checkedAt: null, durationMs: null, error: null }).catch((caught: unknown) => caught);

    expect((error as StoreError).code).toBe('not_found');
  });
});

describe('users', () => {
  it('add, get and find by token hash', async () => {
    const hash = hashApiToken('secret-token');
    const added = await store.addUser('alice@example.com', false, hash);

    expect(added).toMatchObject({ email: 'alice@example.com', admin: false, roles: [] });
    expect(await store.getUser('ALICE@example.com')).toEqual(added);
    expect(await store.findUserByTokenHash(hash)).toEqual(added);
    expect(await store.findUserByTokenHash(hash.toUpperCase())).toEqual(added);
  });

  it('find by unknown or malformed hash', async () => {
    await store.addUser('alice@example.com', false, fakeTokenHash('a'));

    expect(await store.findUserByTokenHash(fakeTokenHash('b'))).toBeUndefined();
    expect(await store.findUserByTokenHash('not-a-hash')).toBeUndefined();
  });

  it('list sorted by email', async () => {
    await store.addUser('bob@example.com', false, fakeTokenHash('b'));
    await store.addUser('alice@example.com', true, fakeTokenHash('a'));

    const users = await store.listUsers();
    expect(users.map((user) => user.email)).toEqual(['alice@example.com', 'bob@example.com']);
    expect(users[0].admin).toBe(true);
  });

  it('duplicate email ignoring case', async () => {
    await store.addUser('alice@example.com', false, fakeTokenHash('a'));

    const error = await store.addUser('Alice@Example.com', true, fakeTokenHash('b')).catch((caught: unknown) => caught);

    expect((error as StoreError).code).toBe('conflict');
    expect((error as StoreError).field).toBe('email');
    expect(await store.listUsers()).toHaveLength(1);
  });

  it('duplicate token hash', async () => {
    await store.addUser('alice@example.com', false, fakeTokenHash('a'));

    const error = await store.addUser('bob@example.com', false, fakeTokenHash('a')).catch((caught: unknown) => caught);

    expect((error as StoreError).code).toBe('conflict');
    expect((error as StoreError).field).toBe('tokenHash');
    expect((error as StoreError).message).not.toContain(fakeTokenHash('a'));
    expect(await store.getUser('bob@example.com')).toBeUndefined();
  });

  it('raw token is rejected unquoted', async () => {
    const error = await store.addUser('alice@example.com', false, 'sdm_raw-api-token').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('tokenHash');
    expect((error as ValidationError).message).not.toContain('sdm_raw-api-token');
    expect(await store.listUsers()).toEqual([]);
  });

  it('invalid email', async () => {
    const error = await store.addUser('not an email', false, fakeTokenHash('a')).catch((caught: unknown) => caught);

    expect((error as ValidationError).code).toBe('invalid_value');
    expect((error as ValidationError).field).toBe('email');
  });

  it('set token hash', async () => {
    await store.addUser('alice@example.com', false, fakeTokenHash('a'));

    expect(await store.setUserTokenHash('alice@example.com', fakeTokenHash('c'))).toBe(true);
    expect(await store.findUserByTokenHash(fakeTokenHash('a'))).toBeUndefined();
    expect((await store.findUserByTokenHash(fakeTokenHash('c')))?.email).toBe('alice@example.com');
    expect(await store.setUserTokenHash('nobody@example.com', fakeTokenHash('d'))).toBe(false);
  });

  it('delete removes memberships', async () => {
    await store.addUser('alice@example.com', false, fakeTokenHash('a'));
    await store.addRole('readers');
    await store.assignRole('readers', 'alice@example.com');

    expect(await store.deleteUser('alice@example.com')).toBe(true);
    expect((await store.listRoles())[0].members).toEqual([]);
    expect(await store.deleteUser('alice@example.com')).toBe(false);
  });
});

describe('roles', () => {
  beforeEach(async () => {
    await store.addResource(resourceInput());
    await store.addUser('alice@example.com', false, fakeTokenHash('a'));
  });

  it('add and list', async () => {
    const role = await store.addRole('readers');

    expect(role).toEqual({ name: 'readers', resources: [], tags: [], members: [] });
    expect(await store.listRoles()).toEqual([role]);
  });

  it('duplicate role', async () => {
    await store.addRole('readers');

    const error = await store.addRole('readers').catch((caught: unknown) => caught);

    expect((error as StoreError).code).toBe('conflict');
    expect(await store.listRoles()).toHaveLength(1);
  });

  it('invalid role name', async () => {
    const error = await store.addRole('has space').catch((caught: unknown) => caught);

    expect((error as ValidationError).code).toBe('invalid_value');
    expect((error as ValidationError).message).toContain('"has space"');
  });

  it('grant and revoke by resource', async () => {
    await store.addRole('readers');

    await store.grant('readers', { resource: 'orders' });
    await store.grant('readers', { resource: 'orders' });
    expect((await store.listRoles())[0].resources).toEqual(['orders']);

    expect(await store.revoke('readers', { resource: 'orders' })).toBe(true);
    expect(await store.revoke('readers', { resource: 'orders' })).toBe(false);
    expect((await store.listRoles())[0].resources).toEqual([]);
  });

  it('grant and revoke by tag', async () => {
    await store.addRole('readers');

    await store.grant('readers', { tag: 'env=prod' });
    expect((await store.listRoles())[0].tags).toEqual(['env=prod']);

    expect(await store.revoke('readers', { tag: 'env=prod' })).toBe(true);
    expect((await store.listRoles())[0].tags).toEqual([]);
  });

  it('grant unknown role or resource', async () => {
    await store.addRole('readers');

    const noRole = await store.grant('writers', { resource: 'orders' }).catch((caught: unknown) => caught);
    const noResource = await store.grant('readers', { resource: 'missing' }).catch((caught: unknown) => caught);

    expect((noRole as StoreError).code).toBe('not_found');
    expect((noRole as StoreError).message).toContain('"writers"');
    expect((noResource as StoreError).code).toBe('not_found');
    expect((noResource as StoreError).message).toContain('"missing"');
  });

  it('grant needs exactly one target', async () => {
    await store.addRole('readers');

    const both = await store.grant('readers', { resource: 'orders', tag: 'env=prod' }).catch((caught: unknown) => caught);
    const neither = await store.grant('readers', {}).catch((caught: unknown) => caught);
    const badTag = await store.grant('readers', { tag: 'env' }).catch((caught: unknown) => caught);

    expect((both as ValidationError).field).toBe('grant');
    expect((neither as ValidationError).field).toBe('grant');
    expect((badTag as ValidationError).field).toBe('tag');
  });

  it('assign and unassign', async () => {
    await store.addRole('readers');

    await store.assignRole('readers', 'alice@example.com');
    await store.assignRole('readers', 'alice@example.com');
    expect((await store.listRoles())[0].members).toEqual(['alice@example.com']);
    expect((await store.getUser('alice@example.com'))?.roles).toEqual(['readers']);

    expect(await store.unassignRole('readers', 'alice@example.com')).toBe(true);
    expect(await store.unassignRole('readers', 'alice@example.com')).toBe(false);
    expect((await store.getUser('alice@example.com'))?.roles).toEqual([]);
  });

  it('assign unknown user', async () => {
    await store.addRole('readers');

    const error = await store.assignRole('readers', 'nobody@example.com').catch((caught: unknown) => caught);

    expect((error as StoreError).code).toBe('not_found');
    expect((error as StoreError).message).toContain('"nobody@example.com"');
  });

  it('delete removes grants and members', async () => {
    await store.addRole('readers');
    await store.grant('readers', { resource: 'orders' });
    await store.assignRole('readers', 'alice@example.com');

    expect(await store.deleteRole('readers')).toBe(true);
    expect(await store.listRoles()).toEqual([]);
    expect((await store.getUser('alice@example.com'))?.roles).toEqual([]);
    expect(await store.deleteRole('readers')).toBe(false);
  });
});
