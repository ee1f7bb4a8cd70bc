import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { backendCount, eventually, startFidelityEnv, type FidelityEnv } from '../helpers/fidelity-env.js';
import { errorOf, queryMessage, rawConnect, startupMessage, TERMINATE } from '../helpers/raw-pg.js';

const ADMIN_SHUTDOWN = '57P01';

let env: FidelityEnv;

beforeAll(async () => {
  env = await startFidelityEnv();
});

afterAll(async () => {
  await env?.close();
});

/** How often a busy backend checks that its client socket is still open; PostgreSQL does not check by default. */
const CLIENT_CHECK_INTERVAL_MS = 100;

async function loggedIn(applicationName: string, parameters: Record<string, string> = {}) {
  const connection = await rawConnect(env.tunnel.port);
  connection.send(startupMessage({ user: 'anyone', database: env.database, application_name: applicationName, ...parameters }));
  await connection.waitFor('Z');
  return connection;
}

async function gone(applicationName: string): Promise<number> {
  return eventually(async () => ((await backendCount(env.server, applicationName)) === 0 ? 0 : undefined));
}

describe('endings', () => {
  it('client Terminate leaves no backend', async () => {
    const connection = await loggedIn('fid-quit');
    expect(await backendCount(env.server, 'fid-quit')).toBe(1);

    connection.send(TERMINATE);
    connection.socket.end();

    expect(await gone('fid-quit')).toBe(0);
  });

  it('client crash leaves no backend', async () => {
    const connection = await loggedIn('fid-crash');
    expect(await backendCount(env.server, 'fid-crash')).toBe(1);

    connection.socket.destroy();

    expect(await gone('fid-crash')).toBe(0);
  });

  it('client crash mid-statement leaves no backend', async () => {
    const connection = await loggedIn('fid-crash-busy', { options: `-c client_connection_check_interval=${CLIENT_CHECK_INTERVAL_MS}` });
    connection.send(queryMessage('SELECT pg_sleep(60)'));
    await eventually(async () => {
      const result = await env.server.adminQuery("SELECT 1 FROM pg_stat_activity WHERE application_name = 'fid-crash-busy' AND state = 'active'");
      return result.rowCount === 1 ? true : undefined;
    });

    connection.socket.destroy();

    // The backend ends mid-statement only if the node closed the server socket when the client vanished.
    expect(await gone('fid-crash-busy')).toBe(0);
  });

  it('pg_terminate_backend reaches the client with 57P01', async () => {
    const victim = await loggedIn('fid-victim');
    const bystander = await env.connect({ application_name: 'fid-bystander' });

    await env.server.adminQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fid-victim'");
    const error = errorOf(await victim.waitFor('E'));
    const stillServed = await bystander.query('SELECT 7 AS n');
    const another = await env.connect();
    const newLogin = await another.query('SELECT 8 AS n');

    expect(error.code).toBe(ADMIN_SHUTDOWN);
    expect(error.message).toContain('terminating connection due to administrator command');
    expect(stillServed.rows[0].n).toBe(7);
    expect(newLogin.rows[0].n).toBe(8);
    victim.close();
    await bystander.end();
    await another.end();
  });
});
