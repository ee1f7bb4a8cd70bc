import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startFidelityEnv, type FidelityEnv } from '../helpers/fidelity-env.js';
import { queryMessage, rawConnect, startupMessage, TERMINATE } from '../helpers/raw-pg.js';

let env: FidelityEnv;

beforeAll(async () => {
  env = await startFidelityEnv();
});

afterAll(async () => {
  await env?.close();
});

describe('asynchronous messages', () => {
  it('delivers NOTICE and WARNING', async () => {
    const client = await env.connect();
    const notices: Array<{ severity?: string; message: string }> = [];
    client.on('notice', (notice) => notices.push({ severity: notice.severity, message: notice.message ?? '' }));
    try {
      await client.query("DO $$ BEGIN RAISE NOTICE 'fid notice'; RAISE WARNING 'fid warning'; END $$");

      expect(notices).toContainEqual({ severity: 'NOTICE', message: 'fid notice' });
      expect(notices).toContainEqual({ severity: 'WARNING', message: 'fid warning' });
    } finally {
      await client.end();
    }
  });

  it('delivers NOTIFY to a listener', async () => {
    const listener = await env.connect();
    const notifier = await env.connect();
    try {
      const received = new Promise<pg.Notification>((resolve) => listener.once('notification', resolve));
      await listener.query('LISTEN fid_channel');
      await notifier.query("NOTIFY fid_channel, 'fid payload'");

      const notification = await received;
      expect(notification.channel).toBe('fid_channel');
      expect(notification.payload).toBe('fid payload');
    } finally {
      await listener.end();
      await notifier.end();
    }
  });

  it('delivers ParameterStatus after SET', async () => {
    const connection = await rawConnect(env.tunnel.port);
    connection.send(startupMessage({ user: 'anyone', database: env.database }));
    await connection.waitFor('Z');

    connection.send(queryMessage("SET application_name = 'fid-renamed'"));
    const statuses: string[] = [];
    for (let message = await connection.waitFor('SZ'); message.code === 'S'; message = await connection.waitFor('SZ')) {
      statuses.push(message.body.toString('utf8'));
    }

    // The greeting's ParameterStatus messages come first, so the SET's is the last one.
    const [name, value] = statuses.at(-1)!.split('\0');
    expect(name).toBe('application_name');
    expect(value).toBe('fid-renamed');
    connection.send(TERMINATE);
    connection.close();
  });
});
