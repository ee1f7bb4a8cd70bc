// Login roles of the embedded PostgreSQL, created with the password stored
// in the form the role's authentication method needs: an MD5 hash for `md5`
// and a SCRAM-SHA-256 verifier otherwise (the server checks a cleartext
// `password` login against either).

import pg from 'pg';
import { ValidationError } from '../errors.js';

/** pg_hba authentication methods a login role can use. `password` is cleartext over TLS, which Azure requests. */
export type LoginAuth = 'password' | 'md5' | 'scram-sha-256';

export const LOGIN_AUTH_METHODS: readonly LoginAuth[] = ['password', 'md5', 'scram-sha-256'];

/**
 * Group roles that pg_hba.conf admits with each method. A role made a
 * member of one can log in without its own pg_hba line, so processes other
 * than the one that owns the server (test files) can add login roles with
 * SQL alone.
 */
export const LOGIN_GROUP_ROLES: Readonly<Record<LoginAuth, string>> = {
  password: 'sdm_login_password',
  md5: 'sdm_login_md5',
  'scram-sha-256': 'sdm_login_scram_sha_256',
};

/** PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

/** Anything with a `query` method: a pg Client or Pool. */
export interface SqlRunner {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

export interface LoginRoleOptions {
  password: string;
  auth: LoginAuth;
  /** A database the role may use. It is created, owned by the role, when missing, and granted to the role otherwise. */
  database?: string;
}

/**
 * Creates a login role with its password. With `asGroupMember`, the role
 * also joins the group role of its method, which is what lets it pass
 * pg_hba.conf when no line names it.
 */
export async function createRoleWithPassword(runner: SqlRunner, name: string, options: LoginRoleOptions & { asGroupMember: boolean }): Promise<void> {
  checkIdentifier('name', name);
  checkPassword(options.password);
  checkAuth(options.auth);

  const membership = options.asGroupMember ? ` IN ROLE ${pg.escapeIdentifier(LOGIN_GROUP_ROLES[options.auth])}` : '';
  await runInTransaction(runner, options.auth, [`CREATE ROLE ${pg.escapeIdentifier(name)} LOGIN PASSWORD ${pg.escapeLiteral(options.password)}${membership}`]);

  if (options.database !== undefined) {
    await provideDatabase(runner, options.database, name);
  }
}

/** Sets a role's password, stored as its method needs. With `asGroupMember`, also moves the role to that method's group role. */
export async function setRolePassword(runner: SqlRunner, name: string, password: string, auth: LoginAuth, asGroupMember: boolean): Promise<void> {
  checkIdentifier('name', name);
  checkPassword(password);
  checkAuth(auth);

  const role = pg.escapeIdentifier(name);
  const statements = [`ALTER ROLE ${role} PASSWORD ${pg.escapeLiteral(password)}`];
  if (asGroupMember) {
    const otherGroups = LOGIN_AUTH_METHODS.filter((method) => method !== auth).map((method) => pg.escapeIdentifier(LOGIN_GROUP_ROLES[method]));
    statements.push(`REVOKE ${otherGroups.join(', ')} FROM ${role}`, `GRANT ${pg.escapeIdentifier(LOGIN_GROUP_ROLES[auth])} TO ${role}`);
  }
  await runInTransaction(runner, auth, statements);
}

/** Returns the statements that create the group roles of LOGIN_GROUP_ROLES, which cannot log in themselves. */
export function createGroupRolesSql(): string[] {
  return LOGIN_AUTH_METHODS.map((method) => `CREATE ROLE ${pg.escapeIdentifier(LOGIN_GROUP_ROLES[method])} NOLOGIN`);
}

/**
 * Checks a role or database name before it goes into SQL and pg_hba.conf.
 * Quotes, line breaks and NUL would break out of a quoted pg_hba field, and
 * names starting with pg_ are reserved.
 */
export function checkIdentifier(field: string, name: string): void {
  if (name.length === 0 || Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new ValidationError(field, `${field} "${name}" has ${Buffer.byteLength(name, 'utf8')} bytes; expected 1 to ${MAX_IDENTIFIER_BYTES} bytes`);
  }
  if (/["\r\n\0]/.test(name)) {
    throw new ValidationError(field, `${field} "${name}" contains a double quote, line break or NUL; expected a name without them`);
  }
  if (name.toLowerCase().startsWith('pg_')) {
    throw new ValidationError(field, `${field} "${name}" starts with pg_, which PostgreSQL reserves; choose another name`);
  }
}

function checkPassword(password: string): void {
  // The message never shows the password itself.
  if (password.length === 0 || password.includes('\0')) {
    throw new ValidationError('password', 'password is empty or contains NUL; expected a non-empty string without NUL characters');
  }
}

function checkAuth(auth: string): void {
  if (!(LOGIN_AUTH_METHODS as readonly string[]).includes(auth)) {
    throw new ValidationError('auth', `auth "${auth}" is not supported; expected one of ${LOGIN_AUTH_METHODS.join(', ')}`);
  }
}

/**
 * Runs statements as one simple-protocol query, which keeps them on one
 * connection even when `runner` is a pool. PostgreSQL runs such a query in
 * an implicit transaction, so SET LOCAL lasts only for these statements and
 * a failure rolls all of them back without leaving the session aborted.
 */
async function runInTransaction(runner: SqlRunner, auth: LoginAuth, statements: string[]): Promise<void> {
  const encryption = auth === 'md5' ? 'md5' : 'scram-sha-256';
  const script = [`SET LOCAL password_encryption = ${pg.escapeLiteral(encryption)}`, ...statements].join(';\n');
  await runner.query(script);
}

async function provideDatabase(runner: SqlRunner, database: string, owner: string): Promise<void> {
  checkIdentifier('database', database);

  const existing = await runner.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  if (existing.rowCount === 0) {
    await runner.query(`CREATE DATABASE ${pg.escapeIdentifier(database)} OWNER ${pg.escapeIdentifier(owner)}`);
    return;
  }
  await runner.query(`GRANT CONNECT, CREATE, TEMPORARY ON DATABASE ${pg.escapeIdentifier(database)} TO ${pg.escapeIdentifier(owner)}`);
}
