// Helpers for tests that need PostgreSQL or scratch files. Importing this
// module registers an afterAll hook in the importing test file that closes
// the admin pool and removes the directories tempDir() made.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createRoleWithPassword, setRolePassword, type LoginAuth, type LoginRoleOptions } from '../../src/demo/login-roles.js';
import type { SharedPostgresInfo } from '../setup/global.js';

export type { LoginAuth, LoginRoleOptions, SharedPostgresInfo };

/** The shared server of the test run, with an admin connection from this test file. */
export interface SharedPostgres extends SharedPostgresInfo {
  /** Pool of superuser connections over TLS. */
  admin: pg.Pool;
  adminQuery(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /**
   * Creates a login role that logs in over TLS with `auth`. The role joins
   * the group role that pg_hba.conf admits with that method, because only
   * the global setup can rewrite pg_hba.conf. So `database` is created or
   * granted, but the role is not limited to it. A test that needs that
   * limit starts its own server.
   */
  createLoginRole(name: string, options: LoginRoleOptions): Promise<void>;
  setPassword(name: string, password: string, auth: LoginAuth): Promise<void>;
  /** Settings for a pg Client that verifies the server against `caPem`. */
  clientConfig(user: string, password: string, database?: string): pg.ClientConfig;
}

const ADMIN_POOL_SIZE = 2;
const ADMIN_IDLE_TIMEOUT_MS = 1_000;

let shared: SharedPostgres | undefined;
const directories = new Set<string>();

afterAll(async () => {
  const pool = shared?.admin;
  shared = undefined;
  await pool?.end();

  for (const directory of directories) {
    fs.rmSync(directory, { recursive: true, force: true });
  }
  directories.clear();
});

/** Returns the shared server's details and an admin pool, made once per test file. */
export async function sharedPostgres(): Promise<SharedPostgres> {
  if (shared !== undefined) {
    return shared;
  }

  const info = inject('postgres');
  const clientConfig = (user: string, password: string, database = 'postgres'): pg.ClientConfig => ({
    host: info.host,
    port: info.port,
    user,
    password,
    database,
    ssl: { ca: info.caPem },
  });

  const admin = new pg.Pool({ ...clientConfig(info.adminUser, info.adminPassword), max: ADMIN_POOL_SIZE, idleTimeoutMillis: ADMIN_IDLE_TIMEOUT_MS, allowExitOnIdle: true });
  admin.on('error', () => {
    // An idle connection closed by the server; the pool replaces it on the next query.
  });

  shared = {
    ...info,
    admin,
    adminQuery: (sql, params) => admin.query(sql, params),
    createLoginRole: (name, options) => createRoleWithPassword(admin, name, { ...options, asGroupMember: true }),
    setPassword: (name, password, auth) => setRolePassword(admin, name, password, auth, true),
    clientConfig,
  };
  return shared;
}

/** Returns a name no other test file uses, such as `role_3f9a1c2b`, for roles and databases on the shared server. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Creates an empty directory that is removed after the test file's last test. */
export function tempDir(prefix = 'sdm-test-'): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  directories.add(directory);
  return directory;
}
