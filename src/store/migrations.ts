// Versioned schema changes of the embedded store. `PRAGMA user_version`
// stores the number of the last migration applied. Each migration runs in
// one transaction together with the version bump, so a failure leaves the
// file at the previous version with none of that migration's changes.

import type { Database } from 'better-sqlite3';
import { StoreError } from './store-error.js';

export interface Migration {
  /** Value of `user_version` once this migration has run; 1, 2, 3 … in order. */
  version: number;
  description: string;
  sql: string;
}

const CORE_TABLES_SQL = `
CREATE TABLE resources (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  hostname TEXT NOT NULL,
  port INTEGER NOT NULL,
  database_name TEXT NOT NULL,
  username TEXT NOT NULL,
  client_id TEXT NOT NULL,
  restrict_database INTEGER NOT NULL CHECK (restrict_database IN (0, 1)),
  single_server_usernames INTEGER NOT NULL CHECK (single_server_usernames IN (0, 1)),
  port_override INTEGER,
  bind_ip TEXT NOT NULL,
  tags TEXT NOT NULL CHECK (json_valid(tags)),
  proxy_cluster TEXT,
  secret_store TEXT NOT NULL,
  tls_mode TEXT NOT NULL CHECK (tls_mode IN ('verify-full', 'verify-ca', 'require', 'disable')),
  ca_pem TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX resources_bind_port ON resources (bind_ip, port_override) WHERE port_override IS NOT NULL;

CREATE TABLE resource_health (
  resource_id INTEGER PRIMARY KEY REFERENCES resources (id) ON DELETE CASCADE,
  state TEXT NOT NULL CHECK (state IN ('healthy', 'unhealthy')),
  checked_at TEXT,
  duration_ms INTEGER,
  error TEXT
);

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  admin INTEGER NOT NULL CHECK (admin IN (0, 1)),
  token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
  created_at TEXT NOT NULL
);

CREATE TABLE roles (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);

CREATE TABLE role_grants (
  id INTEGER PRIMARY KEY,
  role_id INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  resource_id INTEGER REFERENCES resources (id) ON DELETE CASCADE,
  tag_key TEXT,
  tag_value TEXT,
  CHECK ((resource_id IS NULL) <> (tag_key IS NULL AND tag_value IS NULL)),
  CHECK ((tag_key IS NULL) = (tag_value IS NULL))
);
CREATE UNIQUE INDEX role_grants_resource ON role_grants (role_id, resource_id) WHERE resource_id IS NOT NULL;
CREATE UNIQUE INDEX role_grants_tag ON role_grants (role_id, tag_key, tag_value) WHERE tag_key IS NOT NULL;
CREATE INDEX role_grants_by_resource ON role_grants (resource_id);

CREATE TABLE role_members (
  role_id INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (role_id, user_id)
);
CREATE INDEX role_members_by_user ON role_members (user_id);
`;

// Log tables carry no foreign keys: records outlive the resources and users
// they name. AUTOINCREMENT keeps row ids from being reused after pruning,
// because readers that follow the log resume after the last row id they saw.
const LOG_TABLES_SQL = `
CREATE TABLE connection_log (
  row_id INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  user_email TEXT,
  resource TEXT NOT NULL,
  database_name TEXT,
  client_address TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('open', 'closed', 'refused', 'failed')),
  error TEXT,
  bytes_to_server INTEGER NOT NULL,
  bytes_to_client INTEGER NOT NULL
);
CREATE INDEX connection_log_started ON connection_log (started_at);
CREATE INDEX connection_log_resource ON connection_log (resource, row_id);
CREATE INDEX connection_log_user ON connection_log (user_email COLLATE NOCASE, row_id);

CREATE TABLE query_log (
  row_id INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  session_id TEXT NOT NULL,
  user_email TEXT NOT NULL,
  resource TEXT NOT NULL,
  database_name TEXT NOT NULL,
  text TEXT NOT NULL,
  truncated INTEGER NOT NULL CHECK (truncated IN (0, 1)),
  protocol TEXT NOT NULL CHECK (protocol IN ('simple', 'extended'))
);
CREATE INDEX query_log_time ON query_log (time);
CREATE INDEX query_log_resource ON query_log (resource, row_id);
CREATE INDEX query_log_user ON query_log (user_email COLLATE NOCASE, row_id);
CREATE INDEX query_log_session ON query_log (session_id);
`;

// The query log becomes one row per batch of statements (see
// sqlite-query-log.ts). A statement's user, resource and database are those
// of its session, so they are left to the connection log. A session whose
// connection record is missing gets one rebuilt from its statements. Old
// rows keep their ids, in batches of up to 1000, and the sequence carries
// over so that ids freed by pruning stay unused.
const QUERY_LOG_BATCHES_SQL = `
CREATE TABLE query_log_batches (
  row_id INTEGER PRIMARY KEY AUTOINCREMENT,
  first_id INTEGER NOT NULL,
  min_time TEXT NOT NULL,
  max_time TEXT NOT NULL,
  count INTEGER NOT NULL CHECK (count > 0),
  statements TEXT NOT NULL
);
CREATE INDEX query_log_batches_min_time ON query_log_batches (min_time);
CREATE INDEX query_log_batches_max_time ON query_log_batches (max_time);

INSERT INTO connection_log (id, started_at, ended_at, user_email, resource, database_name, client_address, outcome, error,
    bytes_to_server, bytes_to_client)
  SELECT session_id, min(time), max(time), user_email, resource, database_name, NULL, 'failed',
    'connection record missing; rebuilt from the query log', 0, 0
  FROM query_log WHERE session_id NOT IN (SELECT id FROM connection_log) GROUP BY session_id;

-- A batch takes up to 1000 statements that start within the same 512 Ki
-- characters of text, the limit the audit writer's batches keep, so that a
-- batch of long statements stays a few MiB (length() counts code points).
INSERT INTO query_log_batches (row_id, first_id, min_time, max_time, count, statements)
  SELECT max(row_id), min(row_id), min(time), max(time), count(*),
    json_group_array(json_array(row_id, time, session_id, text, truncated, protocol, json(parameters)) ORDER BY row_id)
  FROM (
    SELECT row_id, time, session_id, text, truncated, protocol, parameters,
      (row_id - 1) / 1000 AS count_group,
      (sum(length(text)) OVER (ORDER BY row_id) - length(text)) / 524288 AS text_group
    FROM query_log
  )
  GROUP BY count_group, text_group;

INSERT INTO sqlite_sequence (name, seq) SELECT 'query_log_batches', 0
  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'query_log_batches');
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'query_log'), 0))
  WHERE name = 'query_log_batches';
DROP TABLE query_log;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, description: 'resources, health, users, roles, grants and members', sql: CORE_TABLES_SQL },
  { version: 2, description: 'connection and query logs', sql: LOG_TABLES_SQL },
  { version: 3, description: 'bound parameter values in the query log', sql: 'ALTER TABLE query_log ADD COLUMN parameters TEXT;' },
  // No listing filters by session, and keeping this index up to date was
  // about a third of the cost of each query log row.
  { version: 4, description: 'query log without the session index', sql: 'DROP INDEX query_log_session;' },
  { version: 5, description: 'query log in batches, without the session fields', sql: QUERY_LOG_BATCHES_SQL },
];

/** Receives each migration before it runs, and again with its duration once it has run. */
export type MigrationListener = (migration: Migration, durationMs?: number) => void;

/** Reads the schema version stored in the file's header. */
export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies every migration newer than the file's `user_version`, in order and
 * each in its own transaction. Returns the version the file ends at. Throws
 * StoreError `schema_too_new` when the file was written by a newer sdm.
 */
export function applyMigrations(db: Database, migrations: readonly Migration[] = MIGRATIONS, onApply?: MigrationListener): number {
  checkOrder(migrations);
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
  const current = schemaVersion(db);

  if (current > latest) {
    throw new StoreError('schema_too_new', `database schema version ${current} is newer than this sdm supports (${latest})`, {
      hint: 'upgrade sdm on this node, or point it at another data directory',
    });
  }

  for (const migration of migrations) {
    if (migration.version > current) {
      const started = performance.now();
      onApply?.(migration);
      applyOne(db, migration);
      onApply?.(migration, performance.now() - started);
    }
  }
  return schemaVersion(db);
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`migration "${migration.description}" has version ${migration.version}, expected ${index + 1}`);
    }
  });
}

// The version is read again inside an immediate transaction, which takes
// the write lock first, so two processes opening a new file at once apply each
// migration once: the second one waits and then finds it applied.
function applyOne(db: Database, migration: Migration): void {
  const run = db.transaction(() => {
    if (schemaVersion(db) >= migration.version) {
      return;
    }
    db.exec(migration.sql);
    db.pragma(`user_version = ${Math.trunc(migration.version)}`);
  });
  run.immediate();
}
