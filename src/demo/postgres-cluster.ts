// Creates the files of an embedded PostgreSQL cluster under one temporary
// directory: the server certificate and key, the data directory made by
// initdb, the settings Azure Database for PostgreSQL uses, pg_hba.conf, and
// the superuser's password.

import fs from 'node:fs/promises';
import path from 'node:path';
import { createGroupRolesSql } from './login-roles.js';
import { renderHbaFile, SERVER_HOST } from './pg-hba.js';
import { runToCompletion, type PostgresBinaries, type RunOptions, type ServerIdentity } from './postgres-process.js';

/** Superuser that initdb creates and adminQuery connects as. */
export const ADMIN_ROLE = 'postgres';

export interface ClusterLayout {
  rootDir: string;
  dataDir: string;
  certFile: string;
  keyFile: string;
  hbaFile: string;
}

export function clusterLayout(rootDir: string): ClusterLayout {
  const dataDir = path.join(rootDir, 'data');
  return {
    rootDir,
    dataDir,
    certFile: path.join(rootDir, 'server.crt'),
    keyFile: path.join(rootDir, 'server.key'),
    hbaFile: path.join(dataDir, 'pg_hba.conf'),
  };
}

/**
 * Writes the certificate and key and hands the root directory to the
 * server's OS user. PostgreSQL rejects a key file that others can read, so
 * the key is 0600 and owned by that user.
 */
export async function writeServerCertificate(layout: ClusterLayout, tls: { certPem: string; keyPem: string }, identity: ServerIdentity | undefined): Promise<void> {
  await fs.writeFile(layout.certFile, tls.certPem, { mode: 0o644 });
  await fs.writeFile(layout.keyFile, tls.keyPem, { mode: 0o600 });

  if (identity !== undefined) {
    for (const file of [layout.rootDir, layout.certFile, layout.keyFile]) {
      await fs.chown(file, identity.uid, identity.gid);
    }
  }
}

/**
 * Runs initdb, adds the server settings and pg_hba.conf, then sets the
 * superuser's password in single-user mode. The password goes to the
 * server on stdin, so it is never written to a file.
 */
export async function initialiseCluster(binaries: PostgresBinaries, layout: ClusterLayout, adminPassword: string, run: RunOptions): Promise<void> {
  await runToCompletion(
    binaries.initdb,
    [`--pgdata=${layout.dataDir}`, `--username=${ADMIN_ROLE}`, '--auth-local=reject', '--auth-host=reject', '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'],
    '',
    run,
  );

  // initdb writes the server's major version to PG_VERSION; settings newer servers added depend on it.
  const major = Number((await fs.readFile(path.join(layout.dataDir, 'PG_VERSION'), 'utf8')).trim());
  await fs.appendFile(path.join(layout.dataDir, 'postgresql.conf'), serverSettings(layout, major));
  await fs.writeFile(layout.hbaFile, renderHbaFile(ADMIN_ROLE, []));

  // Single-user mode reads one statement per line. The generated base64url password has no line breaks.
  const bootstrap = [`ALTER ROLE ${ADMIN_ROLE} PASSWORD ${quoteString(adminPassword)}`, ...createGroupRolesSql()].join('\n') + '\n';
  await runToCompletion(binaries.postgres, ['--single', '-D', layout.dataDir, 'postgres'], bootstrap, run);
}

/** First major version of PostgreSQL with the md5_password_warnings setting. */
const MD5_WARNINGS_SINCE_MAJOR = 18;

/** Returns the settings appended to postgresql.conf, where later lines override initdb's. */
function serverSettings(layout: ClusterLayout, major: number): string {
  return [
    '',
    '# Added by sdm: settings as on Azure Database for PostgreSQL.',
    `listen_addresses = '${SERVER_HOST}'`,
    "unix_socket_directories = ''",
    'ssl = on',
    `ssl_cert_file = ${quoteString(layout.certFile)}`,
    `ssl_key_file = ${quoteString(layout.keyFile)}`,
    "ssl_min_protocol_version = 'TLSv1.2'",
    "password_encryption = 'scram-sha-256'",
    // PostgreSQL 18 warns whenever an MD5 password is set unless this is off, and the md5 roles here are deliberate.
    ...(major >= MD5_WARNINGS_SINCE_MAJOR ? ['md5_password_warnings = off'] : []),
    "lc_messages = 'C'",
    '# A failed CREATE ROLE or ALTER ROLE statement would otherwise be logged with its password.',
    'log_min_error_statement = panic',
    '',
  ].join('\n');
}

/** Quotes a string for postgresql.conf or SQL: both double embedded single quotes. */
function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
