// The embedded store: one SQLite file in the node's data directory, opened
// with better-sqlite3. better-sqlite3 is synchronous, so every method does
// its work at once and returns a settled promise, which keeps the Store
// interface open to a PostgreSQL implementation.

import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { applyMigrations, MIGRATIONS, type MigrationListener } from './migrations.js';
import { SqliteLogs } from './sqlite-logs.js';
import { StatementCache } from './statement-cache.js';
import { SqliteResources } from './sqlite-resources.js';
import { SqliteRoles, type GrantInput } from './sqlite-roles.js';
import { SqliteUsers } from './sqlite-users.js';
import type { ConnectionRecord, LogQuery, QueryEntry, QueryRecord, Resource, ResourceHealth, ResourceInput, Role, Store, User } from './types.js';

/** Time a statement waits for another process's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

/** Permissions of the database file. It contains audit logs, so only the node's user may read it. */
export const DATABASE_FILE_MODE = 0o600;

/** Path that opens a private in-memory database instead of a file. */
export const IN_MEMORY_PATH = ':memory:';

// SQLite creates these next to the database file in WAL mode, with the
// database file's permissions.
const COMPANION_SUFFIXES = ['-wal', '-shm'];

export interface SqliteStoreOptions {
  /** Clock for createdAt and updatedAt; defaults to the system clock. */
  now?: () => Date;
  /** Receives each schema migration as it starts and ends; a large query log takes seconds to migrate. */
  onMigration?: MigrationListener;
}

/**
 * Opens (creating if needed) the SQLite store at `path` and brings its schema
 * up to date. The file is created with mode 0600, and an existing file or
 * its WAL companions with wider permissions are narrowed to 0600.
 */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<Store> {
  if (path !== IN_MEMORY_PATH) {
    createPrivateFile(path);
  }

  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    applyMigrations(db, MIGRATIONS, options.onMigration);
  } catch (error) {
    db.close();
    throw error;
  }

  const now = options.now ?? (() => new Date());
  return new SqliteStore(db, () => now().toISOString());
}

function createPrivateFile(path: string): void {
  closeSync(openSync(path, 'a', DATABASE_FILE_MODE));

  for (const file of [path, ...COMPANION_SUFFIXES.map((suffix) => path + suffix)]) {
    if (existsSync(file)) {
      chmodSync(file, DATABASE_FILE_MODE);
    }
  }
}

/** Store over one open better-sqlite3 connection; each change runs in one write transaction. */
class SqliteStore implements Store {
  private readonly resources: SqliteResources;
  private readonly users: SqliteUsers;
  private readonly roles: SqliteRoles;
  private readonly logs: SqliteLogs;

  constructor(
    private readonly db: Database.Database,
    now: () => string,
  ) {
    const statements = new StatementCache(db);
    this.resources = new SqliteResources(statements, now);
    this.users = new SqliteUsers(statements, now);
    this.roles = new SqliteRoles(statements, now, this.resources, this.users);
    this.logs = new SqliteLogs(statements);
  }

  async getResource(name: string): Promise<Resource | undefined> {
    return this.resources.get(name);
  }

  async listResources(): Promise<Resource[]> {
    return this.resources.list();
  }

  async addResource(input: ResourceInput): Promise<Resource> {
    return this.change(() => this.resources.add(input));
  }

  async updateResource(name: string, input: ResourceInput): Promise<Resource> {
    return this.change(() => this.resources.update(name, input));
  }

  async deleteResource(name: string): Promise<boolean> {
    return this.change(() => this.resources.delete(name));
  }

  async getHealth(name: string): Promise<ResourceHealth | undefined> {
    return this.resources.getHealth(name);
  }

  async putHealth(health: ResourceHealth): Promise<void> {
    this.change(() => this.resources.putHealth(health));
  }

  async findUserByTokenHash(tokenHash: string): Promise<User | undefined> {
    return this.users.findByTokenHash(tokenHash);
  }

  async getUser(email: string): Promise<User | undefined> {
    return this.users.get(email);
  }

  async listUsers(): Promise<User[]> {
    return this.users.list();
  }

  async addUser(email: string, admin: boolean, tokenHash: string): Promise<User> {
    return this.change(() => this.users.add(email, admin, tokenHash));
  }

  async setUserTokenHash(email: string, tokenHash: string): Promise<boolean> {
    return this.change(() => this.users.setTokenHash(email, tokenHash));
  }

  async deleteUser(email: string): Promise<boolean> {
    return this.change(() => this.users.delete(email));
  }

  async listRoles(): Promise<Role[]> {
    return this.roles.list();
  }

  async addRole(name: string): Promise<Role> {
    return this.change(() => this.roles.add(name));
  }

  async deleteRole(name: string): Promise<boolean> {
    return this.change(() => this.roles.delete(name));
  }

  async grant(role: string, grant: GrantInput): Promise<void> {
    this.change(() => this.roles.grant(role, grant));
  }

  async revoke(role: string, grant: GrantInput): Promise<boolean> {
    return this.change(() => this.roles.revoke(role, grant));
  }

  async assignRole(role: string, email: string): Promise<void> {
    this.change(() => this.roles.assign(role, email));
  }

  async unassignRole(role: string, email: string): Promise<boolean> {
    return this.change(() => this.roles.unassign(role, email));
  }

  async writeConnections(records: ConnectionRecord[]): Promise<void> {
    this.change(() => this.logs.writeConnections(records));
  }

  async writeQueries(entries: QueryEntry[]): Promise<void> {
    this.change(() => this.logs.writeQueries(entries));
  }

  async listConnections(query: LogQuery): Promise<Array<ConnectionRecord & { rowId: number }>> {
    return this.logs.listConnections(query);
  }

  async listQueries(query: LogQuery): Promise<Array<QueryRecord & { rowId: number }>> {
    return this.logs.listQueries(query);
  }

  async endOpenConnections(endedAt: string, error: string): Promise<number> {
    return this.change(() => this.logs.endOpenConnections(endedAt, error));
  }

  async pruneLogs(before: string): Promise<number> {
    return this.change(() => this.logs.prune(before));
  }

  async close(): Promise<void> {
    if (this.db.open) {
      this.db.pragma('optimize');
      this.db.close();
    }
  }

  // BEGIN IMMEDIATE takes the write lock at the start, so a second process
  // waits for the busy timeout instead of failing when it upgrades a read lock.
  private change<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }
}
