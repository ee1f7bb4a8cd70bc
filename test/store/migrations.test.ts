import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/exit-codes.js';
import { applyMigrations, MIGRATIONS, schemaVersion, type Migration } from '../../src/store/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { StoreError } from '../../src/store/store-error.js';
import { resourceInput } from './temp-store.js';

const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdm-migrations-'));
  path = join(dir, 'sdm.db');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function tableNames(db: Database.Database): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
}

describe('opening a file', () => {
  it('fresh file reaches latest version', async () => {
    const store = await openSqliteStore(path);
    await store.close();

    const db = new Database(path, { readonly: true });
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(tableNames(db)).toEqual(expect.arrayContaining(['resources', 'resource_health', 'users', 'roles', 'role_grants', 'role_members', 'connection_log', 'query_log_batches']));
    db.close();
  });

  it('reopen keeps data', async () => {
    const first = await openSqliteStore(path);
    await first.addResource(resourceInput());
    await first.close();

    const second = await openSqliteStore(path);
    expect((await second.getResource('orders'))?.hostname).toBe('orders.postgres.database.azure.com');
    await second.close();

    const db = new Database(path, { readonly: true });
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    db.close();
  });

  it('WAL journal mode', async () => {
    const store = await openSqliteStore(path);
    await store.addResource(resourceInput());

    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();

    await store.close();
  });

  it('file mode 0600', async () => {
    const store = await openSqliteStore(path);
    await store.addResource(resourceInput());

    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);

    await store.close();
  });

  it('existing wide file narrowed to 0600', async () => {
    writeFileSync(path, '');
    chmodSync(path, 0o644);

    const store = await openSqliteStore(path);
    await store.close();

    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('newer schema rejected', async () => {
    const db = new Database(path);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();

    const error = await openSqliteStore(path).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('schema_too_new');
    expect((error as StoreError).exitCode).toBe(ExitCode.FAILURE);
    expect((error as StoreError).message).toContain(String(LATEST_VERSION + 1));
  });

  it('in-memory store', async () => {
    const store = await openSqliteStore(':memory:');
    await store.addResource(resourceInput());

    expect(await store.listResources()).toHaveLength(1);
    await store.close();
  });
});

describe('applyMigrations', () => {
  const first: Migration = { version: 1, description: 'create a', sql: 'CREATE TABLE a (x INTEGER);' };
  const second: Migration = { version: 2, description: 'create b', sql: 'CREATE TABLE b (y INTEGER);' };

  it('applies only newer migrations', () => {
    const db = new Database(path);

    expect(applyMigrations(db, [first])).toBe(1);
    expect(applyMigrations(db, [first, second])).toBe(2);
    expect(tableNames(db)).toEqual(['a', 'b']);
    db.close();
  });

  it('failed migration rolls back', () => {
    const db = new Database(path);
    applyMigrations(db, [first]);
    const broken: Migration = { version: 2, description: 'broken', sql: 'CREATE TABLE c (z INTEGER); CREATE TABLE a (x INTEGER);' };

    expect(() => applyMigrations(db, [first, broken])).toThrow(/already exists/);
    expect(schemaVersion(db)).toBe(1);
    expect(tableNames(db)).toEqual(['a']);
    db.close();
  });

  it('versions out of order', () => {
    const db = new Database(path);

    expect(() => applyMigrations(db, [second, first])).toThrow(/expected 1/);
    expect(schemaVersion(db)).toBe(0);
    db.close();
  });
});

describe('migration 5: query log in batches, without the session fields', () => {
  // A version 4 file: one session with its connection record, one whose
  // record is gone, and a pruned row that used the highest row id.
  function writeVersion4File(): void {
    const db = new Database(path);
    applyMigrations(db, MIGRATIONS.slice(0, 4));
    db.exec(`
      INSERT INTO connection_log (id, started_at, ended_at, user_email, resource, database_name, client_address, outcome, error, bytes_to_server, bytes_to_client)
        VALUES ('kept', '2025-03-01T10:00:00.000Z', '2025-03-01T10:05:00.000Z', 'alice@example.com', 'orders', 'orders', '127.0.0.1:5000', 'closed', NULL, 10, 20);
      INSERT INTO query_log (time, session_id, user_email, resource, database_name, text, truncated, protocol, parameters) VALUES
        ('2025-03-01T10:01:00.000Z', 'kept', 'alice@example.com', 'orders', 'orders', 'select 1', 0, 'simple', NULL),
        ('2025-03-01T11:01:00.000Z', 'lost', 'bob@example.com', 'billing', 'ledger', 'select 2', 0, 'extended', '["7"]'),
        ('2025-03-01T11:02:00.000Z', 'lost', 'bob@example.com', 'billing', 'ledger', 'select 3', 1, 'simple', NULL),
        ('2025-03-01T12:00:00.000Z', 'kept', 'alice@example.com', 'orders', 'orders', 'pruned', 0, 'simple', NULL);
      DELETE FROM query_log WHERE text = 'pruned';
    `);
    expect(schemaVersion(db)).toBe(4);
    db.close();
  }

  it('keeps every statement with its session fields', async () => {
    writeVersion4File();
    const store = await openSqliteStore(path);

    const records = await store.listQueries({});
    expect(records.map(({ rowId, sessionId, user, resource, database, text, truncated, protocol, parameters }) => ({
      rowId, sessionId, user, resource, database, text, truncated, protocol, parameters,
    }))).toEqual([
      { rowId: 1, sessionId: 'kept', user: 'alice@example.com', resource: 'orders', database: 'orders', text: 'select 1', truncated: false, protocol: 'simple', parameters: null },
      { rowId: 2, sessionId: 'lost', user: 'bob@example.com', resource: 'billing', database: 'ledger', text: 'select 2', truncated: false, protocol: 'extended', parameters: ['7'] },
      { rowId: 3, sessionId: 'lost', user: 'bob@example.com', resource: 'billing', database: 'ledger', text: 'select 3', truncated: true, protocol: 'simple', parameters: null },
    ]);
    expect(await store.listQueries({ user: 'BOB@example.com' })).toHaveLength(2);
    await store.close();
  });

  it('rebuilds a missing connection record from its statements', async () => {
    writeVersion4File();
    const store = await openSqliteStore(path);

    const rebuilt = (await store.listConnections({ user: 'bob@example.com' }))[0];
    expect(rebuilt).toMatchObject({
      id: 'lost',
      startedAt: '2025-03-01T11:01:00.000Z',
      endedAt: '2025-03-01T11:02:00.000Z',
      resource: 'billing',
      database: 'ledger',
      outcome: 'failed',
      error: 'connection record missing; rebuilt from the query log',
    });
    expect((await store.listConnections({})).map((record) => record.id)).toEqual(['kept', 'lost']);
    await store.close();
  });

  it('row ids freed before the migration stay unused', async () => {
    writeVersion4File();
    const store = await openSqliteStore(path);

    await store.writeQueries([{ time: '2025-03-02T00:00:00.000Z', sessionId: 'kept', text: 'select 5', truncated: false, protocol: 'simple' }]);
    const newest = (await store.listQueries({ limit: 1 }))[0];
    expect(newest).toMatchObject({ text: 'select 5', rowId: 5 });
    await store.close();
  });

  it('reports its start and duration', async () => {
    writeVersion4File();
    const events: Array<[number, number | undefined]> = [];

    const store = await openSqliteStore(path, { onMigration: (migration, durationMs) => events.push([migration.version, durationMs]) });
    await store.close();

    expect(events).toHaveLength(2);
    expect(events[0]).toEqual([5, undefined]);
    expect(events[1][0]).toBe(5);
    expect(events[1][1]).toBeGreaterThanOrEqual(0);
  });

  it('splits batches of long statements', async () => {
    const db = new Database(path);
    applyMigrations(db, MIGRATIONS.slice(0, 4));
    const insert = db.prepare(
      "INSERT INTO query_log (time, session_id, user_email, resource, database_name, text, truncated, protocol) VALUES (?, 'kept', 'alice@example.com', 'orders', 'orders', ?, 0, 'simple')",
    );
    const texts = Array.from({ length: 30 }, (_, index) => `select '${String(index).padStart(2, '0')}${'x'.repeat(60 * 1024)}'`);
    texts.forEach((text, index) => insert.run(`2025-03-01T10:00:${String(index).padStart(2, '0')}.000Z`, text));
    db.close();

    const store = await openSqliteStore(path);
    expect((await store.listQueries({ limit: 100 })).map((record) => record.text)).toEqual(texts);
    await store.close();

    const migrated = new Database(path, { readonly: true });
    const batches = migrated.prepare('SELECT first_id, count, length(statements) AS length FROM query_log_batches ORDER BY row_id').all() as Array<{ first_id: number; count: number; length: number }>;
    migrated.close();
    expect(batches.map((batch) => batch.count)).toEqual([9, 9, 8, 4]);
    expect(batches.map((batch) => batch.first_id)).toEqual([1, 10, 19, 27]);
    for (const batch of batches) {
      expect(batch.length).toBeLessThan(600 * 1024);
    }
  });

  it('replaces the query log table with the batch table', async () => {
    writeVersion4File();
    const store = await openSqliteStore(path);
    await store.close();

    const db = new Database(path, { readonly: true });
    expect(tableNames(db)).not.toContain('query_log');
    const batches = db.prepare('SELECT row_id, first_id, min_time, max_time, count FROM query_log_batches').all();
    expect(batches).toEqual([{ row_id: 3, first_id: 1, min_time: '2025-03-01T10:01:00.000Z', max_time: '2025-03-01T11:02:00.000Z', count: 3 }]);
    db.close();
  });
});
