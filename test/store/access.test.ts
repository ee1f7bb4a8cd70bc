import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { userMayReach } from '../../src/store/access.js';
import type { Resource, Role, Store, User } from '../../src/store/types.js';
import { fakeTokenHash, openTempStore, resourceInput, type TempStore } from './temp-store.js';

let temp: TempStore;
let store: Store;

beforeEach(async () => {
  temp = await openTempStore();
  store = temp.store;
  await store.addUser('alice@example.com', false, fakeTokenHash('a'));
  await store.addUser('root@example.com', true, fakeTokenHash('b'));
  await store.addResource(resourceInput({ name: 'orders', tags: { env: 'prod' } }));
  await store.addResource(resourceInput({ name: 'billing', tags: { env: 'dev' } }));
  await store.addRole('readers');
  await store.assignRole('readers', 'alice@example.com');
});

afterEach(async () => {
  await temp.cleanup();
});

async function mayReach(email: string, resourceName: string): Promise<boolean> {
  const user = (await store.getUser(email)) as User;
  const resource = (await store.getResource(resourceName)) as Resource;
  return userMayReach(user, await store.listRoles(), resource);
}

describe('userMayReach', () => {
  it('no grant', async () => {
    expect(await mayReach('alice@example.com', 'orders')).toBe(false);
  });

  it('by name', async () => {
    await store.grant('readers', { resource: 'orders' });

    expect(await mayReach('alice@example.com', 'orders')).toBe(true);
    expect(await mayReach('alice@example.com', 'billing')).toBe(false);
  });

  it('by tag', async () => {
    await store.grant('readers', { tag: 'env=prod' });

    expect(await mayReach('alice@example.com', 'orders')).toBe(true);
    expect(await mayReach('alice@example.com', 'billing')).toBe(false);
  });

  it('resource tagged later', async () => {
    await store.grant('readers', { tag: 'env=prod' });
    expect(await mayReach('alice@example.com', 'billing')).toBe(false);

    await store.updateResource('billing', resourceInput({ name: 'billing', tags: { env: 'prod' } }));

    expect(await mayReach('alice@example.com', 'billing')).toBe(true);
  });

  it('admin reaches everything', async () => {
    expect(await mayReach('root@example.com', 'orders')).toBe(true);
    expect(await mayReach('root@example.com', 'billing')).toBe(true);
  });

  it('grant to a role without the user', async () => {
    await store.addRole('writers');
    await store.grant('writers', { resource: 'orders' });

    expect(await mayReach('alice@example.com', 'orders')).toBe(false);
  });

  it('membership from role members only', () => {
    const user: User = { email: 'Alice@Example.com', admin: false, roles: [], createdAt: '' };
    const roles: Role[] = [{ name: 'readers', resources: ['orders'], tags: [], members: ['alice@example.com'] }];
    const resource = { ...resourceInput({ name: 'orders' }), createdAt: '', updatedAt: '' };

    expect(userMayReach(user, roles, resource)).toBe(true);
  });

  it('tag value must match exactly', () => {
    const user: User = { email: 'alice@example.com', admin: false, roles: ['readers'], createdAt: '' };
    const roles: Role[] = [{ name: 'readers', resources: [], tags: ['env=prod'], members: [] }];
    const resource = { ...resourceInput({ tags: { env: 'production' } }), createdAt: '', updatedAt: '' };

    expect(userMayReach(user, roles, resource)).toBe(false);
  });
});
