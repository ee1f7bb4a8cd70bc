// Opens a real SQLite store in a fresh temporary directory for one test, and
// builds the inputs the store tests write.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { ConnectionRecord, ResourceInput, Store } from '../../src/store/types.js';

export interface TempStore {
  store: Store;
  path: string;
  dir: string;
  cleanup(): Promise<void>;
}

export async function openTempStore(): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), 'sdm-store-'));
  const path = join(dir, 'sdm.db');
  const store = await openSqliteStore(path);

  return {
    store,
    path,
    dir,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Builds a valid resource input; `overrides` replace single fields. */
export function resourceInput(overrides: Partial<ResourceInput> = {}): ResourceInput {
  return {
    type: 'azure-postgres-mi',
    name: 'orders',
    hostname: 'orders.postgres.database.azure.com',
    port: 5432,
    database: 'orders',
    username: 'orders-reader',
    clientId: '11111111-2222-3333-4444-555555555555',
    restrictDatabase: false,
    singleServerUsernames: false,
    portOverride: null,
    bindIp: '127.0.0.1',
    tags: {},
    proxyCluster: null,
    secretStore: 'built-in',
    tlsMode: 'verify-full',
    caPem: null,
    ...overrides,
  };
}

/** Builds a token hash made of one repeated hex digit. */
export function fakeTokenHash(digit: string): string {
  return digit.repeat(64);
}

/** An open connection record of alice@example.com on resource orders. */
export function connectionRecord(id: string, overrides: Partial<ConnectionRecord> = {}): ConnectionRecord {
  return {
    id,
    startedAt: '2025-03-01T10:00:00.000Z',
    endedAt: null,
    user: 'alice@example.com',
    resource: 'orders',
    database: 'orders',
    clientAddress: '127.0.0.1:50000',
    outcome: 'open',
    error: null,
    bytesToServer: 0,
    bytesToClient: 0,
    ...overrides,
  };
}
