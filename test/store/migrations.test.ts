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
    expect(tableNames(db)).toEqual(expect.arrayContaining(['resources', 'resource_health', 'users', 'roles', 'role_grants', 'role_members', 'connection_log', 'query_log']));
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
