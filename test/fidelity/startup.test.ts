import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { GSSENC_REQUEST_CODE, SSL_REQUEST_CODE } from '../../src/pgwire/constants.js';
import { runProgram, startFidelityEnv, type FidelityEnv } from '../helpers/fidelity-env.js';
import { negotiateAndLogin } from '../helpers/fidelity-negotiate.js';
import { queryMessage, rawConnect, startupMessage, TERMINATE } from '../helpers/raw-pg.js';

/** Bound on one psql run, so a client that hangs fails the test instead of stalling it. */
const PSQL_TIMEOUT_MS = 15_000;

let env: FidelityEnv;

beforeAll(async () => {
  env = await startFidelityEnv({ replication: true });
});

afterAll(async () => {
  await env?.close();
});

function psql(sql: string, extra: Record<string, string> = {}) {
  return runProgram('psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env: env.libpqEnv(extra), timeoutMs: PSQL_TIMEOUT_MS });
}

describe('session start', () => {
  it.each([
    ['SSL', [SSL_REQUEST_CODE]],
    ['GSSENC', [GSSENC_REQUEST_CODE]],
    ['GSSENC then SSL', [GSSENC_REQUEST_CODE, SSL_REQUEST_CODE]],
    ['SSL then GSSENC', [SSL_REQUEST_CODE, GSSENC_REQUEST_CODE]],
    ['SSL, GSSENC, SSL in one write', [SSL_REQUEST_CODE, GSSENC_REQUEST_CODE, SSL_REQUEST_CODE]],
  ])('refuses %s and then logs in', async (_name, codes) => {
    const login = await negotiateAndLogin(env.tunnel.port, codes, startupMessage({ user: 'anyone', database: env.database }));

    expect(login.responses).toBe('N'.repeat(codes.length));
    expect(login.messages[0].code).toBe('R');
    expect(login.messages.at(-1)?.code).toBe('Z');
    login.socket.end(TERMINATE);
  });

  it.each([['sslmode=disable'], ['sslmode=allow'], ['sslmode=prefer'], ['gssencmode=prefer']])('psql connects with %s', async (setting) => {
    const [key, value] = setting.split('=');
    const variables: Record<string, string> = key === 'sslmode' ? { PGSSLMODE: value } : { PGSSLMODE: 'prefer', PGGSSENCMODE: value };

    const result = await psql('SELECT 40 + 2', variables);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe('42');
  });

  it('psql with sslmode=require fails at once', async () => {
    const result = await psql('SELECT 1', { PGSSLMODE: 'require' });

    expect(result.signal).toBeNull();
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('server does not support SSL, but SSL was required');
  });

  it('psql with channel_binding=require fails at once', async () => {
    const result = await psql('SELECT 1', { PGSSLMODE: 'prefer', PGCHANNELBINDING: 'require' });

    expect(result.signal).toBeNull();
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('channel binding required');
  });
});

describe('startup parameters', () => {
  it('passes application_name, options, client_encoding and DateStyle', async () => {
    await env.server.adminQuery(`CREATE SCHEMA IF NOT EXISTS fidelity_schema`);
    const connection = await rawConnect(env.tunnel.port);
    connection.send(
      startupMessage({
        user: 'anyone',
        database: env.database,
        application_name: 'fidelity-params',
        options: '-c search_path=fidelity_schema',
        client_encoding: 'LATIN1',
        DateStyle: 'SQL, DMY',
      }),
    );
    await connection.waitFor('Z');

    connection.send(
      queryMessage(
        "SELECT concat_ws('|', current_setting('application_name'), current_setting('search_path'), current_setting('client_encoding'), current_setting('DateStyle'))",
      ),
    );
    const row = await connection.waitFor('D');
    expect(row.body.subarray(6).toString('latin1')).toBe('fidelity-params|fidelity_schema|LATIN1|SQL, DMY');
    connection.send(TERMINATE);
    connection.close();
  });

  it('passes replication=database', async () => {
    const connection = await rawConnect(env.tunnel.port);
    connection.send(startupMessage({ user: 'anyone', database: env.database, replication: 'database' }));
    await connection.waitFor('Z');

    connection.send(queryMessage('IDENTIFY_SYSTEM'));
    const description = await connection.waitFor('TE');
    expect(description.code).toBe('T');
    expect(description.body.toString('latin1')).toContain('systemid');
    connection.send(TERMINATE);
    connection.close();
  });
});
