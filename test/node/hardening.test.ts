import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { silentLogger } from '../../src/log.js';
import { initGateway, runGateway, TLS_HANDSHAKE_TIMEOUT_MS } from '../../src/node/gateway.js';
import { MAX_API_BODY_BYTES } from '../../src/tunnel/admin-api.js';
import { startTestNode, type TestNode } from '../helpers/node-harness.js';
import { tempDir } from '../helpers/postgres.js';

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode();
});

afterAll(async () => {
  await node?.close();
});

function closeOf(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

describe('node hardening', () => {
  it(
    'closes a connection that never handshakes',
    async () => {
      const socket = net.connect({ host: '127.0.0.1', port: node.port });
      socket.on('error', () => undefined);

      await closeOf(socket);
      expect(socket.destroyed).toBe(true);
    },
    TLS_HANDSHAKE_TIMEOUT_MS + 20_000,
  );

  it('answers an oversized request body with 413', async () => {
    const answer = await node.api('POST', '/v1/resources', { name: 'big', caPem: 'x'.repeat(MAX_API_BODY_BYTES + 1) });

    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('payload_too_large');
  });

  it('rejects broken percent-encoding with 400', async () => {
    const answer = await node.api('GET', '/v1/resources/%E0%A4%A');

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('bad_request');
  });

  it('rejects a non-boolean admin flag', async () => {
    const answer = await node.api('POST', '/v1/users', { email: 'bob@example.com', admin: 'true' });

    expect(answer.status).toBe(400);
    expect(answer.body.error.field).toBe('admin');
    const users = await node.api('GET', '/v1/users');
    expect((users.body as Array<{ email: string }>).map((user) => user.email)).not.toContain('bob@example.com');
  });

  it('reports a port in use clearly', async () => {
    const dataDir = path.join(tempDir('sdm-init-'), 'node');
    await initGateway({ dataDir, listen: '127.0.0.1:0' });

    await expect(runGateway({ dataDir, logger: silentLogger(), listen: `127.0.0.1:${node.port}` })).rejects.toMatchObject({
      code: 'listen_failed',
      message: expect.stringContaining('already in use'),
    });
  });

  it('refuses to init a non-empty directory', async () => {
    const dataDir = tempDir('sdm-init-');
    fs.writeFileSync(path.join(dataDir, 'node-key.pem'), 'an earlier key');

    await expect(initGateway({ dataDir, listen: '127.0.0.1:0' })).rejects.toMatchObject({ code: 'data_dir_not_empty' });
    expect(fs.readFileSync(path.join(dataDir, 'node-key.pem'), 'utf8')).toBe('an earlier key');
  });

  it('lets only one of two racing inits win', async () => {
    const dataDir = path.join(tempDir('sdm-init-'), 'node');
    const results = await Promise.allSettled([initGateway({ dataDir }), initGateway({ dataDir })]);
    const winners = results.filter((result) => result.status === 'fulfilled');

    expect(winners).toHaveLength(1);
    const fingerprint = (winners[0] as PromiseFulfilledResult<{ fingerprint: string }>).value.fingerprint;
    const { fingerprintOf } = await import('../../src/tunnel/fingerprint.js');
    expect(fingerprintOf(fs.readFileSync(path.join(dataDir, 'node-cert.pem'), 'utf8'))).toBe(fingerprint);
  });
});
