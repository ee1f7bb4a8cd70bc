import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_AUTH_METHODS, startEmbeddedPostgres, type EmbeddedPostgres, type LoginAuth } from '../../src/demo/embedded-postgres.js';
import { generateCertificateAuthority, issueCertificate } from '../../src/tunnel/certificates.js';
import { sharedPostgres, uniqueName } from '../helpers/postgres.js';

/** Opens a pg connection over TLS verified against `caPem`. The caller ends it. */
async function logIn(server: { host: string; port: number; caPem: string }, user: string, password: string, database = 'postgres'): Promise<pg.Client> {
  const client = new pg.Client({ host: server.host, port: server.port, user, password, database, ssl: { ca: server.caPem } });
  await client.connect();
  return client;
}

/** Logs in, returns `current_user` and whether the session uses TLS, and logs out. */
async function whoAmI(server: { host: string; port: number; caPem: string }, user: string, password: string, database = 'postgres'): Promise<{ user: string; ssl: boolean }> {
  const client = await logIn(server, user, password, database);
  try {
    const result = await client.query<{ user: string; ssl: boolean }>('SELECT current_user AS user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return result.rows[0]!;
  } finally {
    await client.end();
  }
}

/** Returns the error a failed login raises. */
async function loginError(config: pg.ClientConfig): Promise<{ code?: string; message: string }> {
  const client = new pg.Client(config);
  try {
    await client.connect();
  } catch (error) {
    return error as { code?: string; message: string };
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error(`expected the login of ${String(config.user)} to fail, but it succeeded`);
}

/** Returns a port on 127.0.0.1 that nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Waits, at most 100 times 50 ms, until a line containing `text` has been logged. */
async function waitForLine(lines: string[], text: string): Promise<boolean> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (lines.some((line) => line.includes(text))) {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Process ids whose parent is `parentPid`, read from /proc (Linux). */
function childPids(parentPid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        // The fourth field of /proc/PID/stat, after the parenthesised command name, is the parent pid.
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parentPid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function postmasterPid(dataDir: string): number {
  return Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

describe('startEmbeddedPostgres', () => {
  let server: EmbeddedPostgres;
  let port: number;
  const logLines: string[] = [];
  const passwords: string[] = [];

  beforeAll(async () => {
    port = await freePort();
    server = await startEmbeddedPostgres({ port, onLog: (line) => logLines.push(line) });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('listens on the requested port', () => {
    expect(server.port).toBe(port);
    expect(server.host).toBe('127.0.0.1');
  });

  it('uses the settings of Azure', async () => {
    const settings = await server.adminQuery("SELECT name, setting FROM pg_settings WHERE name IN ('listen_addresses', 'unix_socket_directories', 'ssl', 'password_encryption')");
    const byName = Object.fromEntries(settings.rows.map((row: { name: string; setting: string }) => [row.name, row.setting]));

    expect(byName.listen_addresses).toBe('127.0.0.1');
    expect(byName.unix_socket_directories).toBe('');
    expect(byName.ssl).toBe('on');
    expect(byName.password_encryption).toBe('scram-sha-256');
  });

  it.each(LOGIN_AUTH_METHODS)('logs a %s role in over TLS', async (auth) => {
    const name = `role_${auth.replaceAll('-', '_')}`;
    const password = `secret-${auth}-${uniqueName('pw')}`;
    passwords.push(password);
    await server.createLoginRole(name, { password, auth });

    const session = await whoAmI(server, name, password);

    expect(session.user).toBe(name);
    expect(session.ssl).toBe(true);
  });

  it('uses each role method in pg_hba.conf', async () => {
    const rules = await server.adminQuery("SELECT user_name, auth_method FROM pg_hba_file_rules WHERE type = 'hostssl'");
    const methodOf = (role: string) => rules.rows.find((row: { user_name: string[] }) => row.user_name.includes(role))?.auth_method;

    expect(methodOf('role_password')).toBe('password');
    expect(methodOf('role_md5')).toBe('md5');
    expect(methodOf('role_scram_sha_256')).toBe('scram-sha-256');
  });

  it('stores an MD5 hash for an md5 role', async () => {
    const stored = await server.adminQuery("SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN ('role_md5', 'role_password')");
    const hashOf = (role: string) => stored.rows.find((row: { rolname: string }) => row.rolname === role)?.rolpassword as string;

    expect(hashOf('role_md5')).toMatch(/^md5[0-9a-f]{32}$/);
    expect(hashOf('role_password')).toMatch(/^SCRAM-SHA-256\$/);
  });

  it('rejects a login without TLS', async () => {
    const password = uniqueName('pw');
    passwords.push(password);
    await server.createLoginRole('role_plain', { password, auth: 'password' });

    const error = await loginError({ host: server.host, port: server.port, user: 'role_plain', password, database: 'postgres', ssl: false });

    expect(error.code).toBe('28000');
    expect(error.message).toContain('no encryption');
  });

  it('rejects a wrong password with 28P01', async () => {
    const password = uniqueName('pw');
    passwords.push(password);
    await server.createLoginRole('role_wrong', { password, auth: 'scram-sha-256' });

    const error = await loginError({ host: server.host, port: server.port, user: 'role_wrong', password: 'not-the-password', database: 'postgres', ssl: { ca: server.caPem } });

    expect(error.code).toBe('28P01');
  });

  it('limits a role to its database', async () => {
    const password = uniqueName('pw');
    passwords.push(password);
    await server.createLoginRole('role_app', { password, auth: 'password', database: 'appdb' });

    const session = await whoAmI(server, 'role_app', password, 'appdb');
    const error = await loginError({ host: server.host, port: server.port, user: 'role_app', password, database: 'postgres', ssl: { ca: server.caPem } });

    expect(session.user).toBe('role_app');
    expect(error.code).toBe('28000');
  });

  it('sets a new password and method', async () => {
    const oldPassword = uniqueName('old');
    const newPassword = uniqueName('new');
    passwords.push(oldPassword, newPassword);
    await server.createLoginRole('role_rotated', { password: oldPassword, auth: 'md5' });

    await server.setPassword('role_rotated', newPassword, 'scram-sha-256');
    const error = await loginError({ host: server.host, port: server.port, user: 'role_rotated', password: oldPassword, database: 'postgres', ssl: { ca: server.caPem } });
    const session = await whoAmI(server, 'role_rotated', newPassword);

    expect(error.code).toBe('28P01');
    expect(session.user).toBe('role_rotated');
  });

  it('rejects setPassword for an unknown role', async () => {
    await expect(server.setPassword('role_unknown', 'whatever', 'password')).rejects.toMatchObject({ code: 'postgres_role_not_found' });
  });

  it('rejects a role name with a quote', async () => {
    await expect(server.createLoginRole('role"x', { password: 'whatever', auth: 'password' })).rejects.toMatchObject({ code: 'invalid_value', field: 'name' });
  });

  it('keeps the password out of a failed statement', async () => {
    const password = uniqueName('duplicate');
    passwords.push(password);

    await expect(server.createLoginRole('role_password', { password, auth: 'password' })).rejects.toMatchObject({ code: '42710' });
    const logged = await waitForLine(logLines, 'role "role_password" already exists');

    expect(logged).toBe(true);
    expect(logLines.filter((line) => line.includes(password))).toEqual([]);
  });

  it('keeps the key file private to the server user', () => {
    const rootDir = path.dirname(server.dataDir);
    const key = fs.statSync(path.join(rootDir, 'server.key'));

    expect(key.mode & 0o777).toBe(0o600);
    expect(key.uid).toBe(fs.statSync(server.dataDir).uid);
  });

  it('keeps data across pause and resume', async () => {
    await server.adminQuery('CREATE TABLE kept (value text)');
    await server.adminQuery("INSERT INTO kept VALUES ('still here')");

    await server.pause();
    await expect(server.adminQuery('SELECT 1')).rejects.toMatchObject({ code: 'postgres_not_running' });
    await server.resume();
    const rows = await server.adminQuery('SELECT value FROM kept');

    expect(server.port).toBe(port);
    expect(rows.rows).toEqual([{ value: 'still here' }]);
  });

  it('never logs a password', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(passwords.length).toBeGreaterThan(0);
    expect(logLines.filter((line) => passwords.some((password) => line.includes(password)))).toEqual([]);
    expect(logLines.filter((line) => line.includes(server.adminPassword))).toEqual([]);
  });
});

describe('startEmbeddedPostgres with a CA-issued certificate', () => {
  it('serves the certificate and reports the CA', async () => {
    const ca = await generateCertificateAuthority({ commonName: 'sdm test CA' });
    const issued = await issueCertificate(ca, { commonName: 'localhost', altNames: ['127.0.0.1'] });
    const server = await startEmbeddedPostgres({ tls: { ...issued, caPem: ca.certPem } });

    try {
      await server.createLoginRole('role_ca', { password: 'ca-password', auth: 'scram-sha-256' });
      const session = await whoAmI(server, 'role_ca', 'ca-password');

      expect(server.caPem).toBe(ca.certPem);
      expect(session.ssl).toBe(true);
    } finally {
      await server.stop();
    }
  });
});

describe('EmbeddedPostgres.stop', () => {
  it('leaves no process and no directory', async () => {
    const server = await startEmbeddedPostgres();
    await server.createLoginRole('role_busy', { password: 'busy-password', auth: 'password' });
    const open = await logIn(server, 'role_busy', 'busy-password');
    open.on('error', () => undefined);
    const rootDir = path.dirname(server.dataDir);
    const pid = postmasterPid(server.dataDir);
    const children = childPids(pid);

    await server.stop();

    expect(children.length).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(false);
    expect(children.filter(isRunning)).toEqual([]);
    expect(fs.existsSync(rootDir)).toBe(false);
  });

  it('can be called twice', async () => {
    const server = await startEmbeddedPostgres();

    await server.stop();
    await server.stop();

    expect(fs.existsSync(path.dirname(server.dataDir))).toBe(false);
  });
});

describe('sharedPostgres', () => {
  it.each(LOGIN_AUTH_METHODS)('logs a %s role in over TLS', async (auth: LoginAuth) => {
    const shared = await sharedPostgres();
    const name = uniqueName('shared');
    const password = uniqueName('pw');
    await shared.createLoginRole(name, { password, auth });

    const session = await whoAmI(shared, name, password);

    expect(session.user).toBe(name);
    expect(session.ssl).toBe(true);
  });

  it('rejects a login without TLS', async () => {
    const shared = await sharedPostgres();
    const name = uniqueName('shared');
    await shared.createLoginRole(name, { password: 'shared-password', auth: 'password' });

    const error = await loginError({ ...shared.clientConfig(name, 'shared-password'), ssl: false });

    expect(error.code).toBe('28000');
  });

  it('sets a new password and method', async () => {
    const shared = await sharedPostgres();
    const name = uniqueName('shared');
    await shared.createLoginRole(name, { password: 'first-password', auth: 'md5' });

    await shared.setPassword(name, 'second-password', 'scram-sha-256');
    const error = await loginError(shared.clientConfig(name, 'first-password'));
    const session = await whoAmI(shared, name, 'second-password');

    expect(error.code).toBe('28P01');
    expect(session.user).toBe(name);
  });
});
