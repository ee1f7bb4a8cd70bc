import crypto from 'node:crypto';
import net from 'node:net';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { encodeFrame, TUNNEL_ALPN, TUNNEL_PROTOCOL_VERSION } from '../../src/tunnel/hello.js';
import { connectToNode } from '../../src/tunnel/tls.js';
import { generateCertificateAuthority } from '../../src/tunnel/certificates.js';
import { resourceBody, startTestNode, type TestNode } from '../helpers/node-harness.js';
import { sharedPostgres, uniqueName, type LoginAuth, type SharedPostgres } from '../helpers/postgres.js';
import { cancelMessage, errorOf, queryMessage, rawConnect, startupMessage, TERMINATE } from '../helpers/raw-pg.js';

interface Identity {
  clientId: string;
  role: string;
  auth: LoginAuth;
  database: string;
}

let postgres: SharedPostgres;
let node: TestNode;
const identities = new Map<string, Identity>();
const issuedTokens: string[] = [];

async function addIdentity(auth: LoginAuth): Promise<Identity> {
  const identity = { clientId: crypto.randomUUID(), role: uniqueName(`mi_${auth.replace(/-/g, '_')}`), auth, database: uniqueName('db') };
  await postgres.createLoginRole(identity.role, { password: crypto.randomBytes(16).toString('hex'), auth, database: identity.database });
  identities.set(identity.clientId, identity);
  node?.emulator.addIdentity(identity.clientId);
  return identity;
}

async function addResource(name: string, identity: Identity, fields: Record<string, unknown> = {}): Promise<void> {
  const answer = await node.api(
    'POST',
    '/v1/resources',
    resourceBody({
      name,
      port: postgres.port,
      database: identity.database,
      username: identity.role,
      clientId: identity.clientId,
      caPem: postgres.caPem,
      ...fields,
    }),
  );
  expect(answer.status).toBe(201);
}

async function connectThrough(resource: string, options: { database?: string; token?: string } = {}): Promise<pg.Client> {
  const tunnel = await node.tunnel(resource, options.token);
  const client = new pg.Client({ host: '127.0.0.1', port: tunnel.port, user: 'anyone', database: options.database, ssl: false });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function connectError(resource: string, options: { database?: string; token?: string } = {}): Promise<{ code: string; message: string }> {
  try {
    const client = await connectThrough(resource, options);
    await client.end();
  } catch (error) {
    return { code: (error as { code?: string }).code ?? '', message: (error as Error).message };
  }
  throw new Error(`connecting to ${resource} succeeded, and a failure was expected`);
}

async function expectNodeStillServes(): Promise<void> {
  const client = await connectThrough('cleartext');
  const result = await client.query('SELECT 1 AS one');
  expect(result.rows[0].one).toBe(1);
  await client.end();
}

beforeAll(async () => {
  postgres = await sharedPostgres();
  node = await startTestNode({
    onIssue: async (clientId, token) => {
      issuedTokens.push(token);
      const identity = identities.get(clientId.toLowerCase()) ?? identities.get(clientId);
      if (identity && !identity.role.includes('wrongpw')) {
        await postgres.setPassword(identity.role, token, identity.auth);
      }
    },
  });

  await addResource('cleartext', await addIdentity('password'));
  await addResource('md5', await addIdentity('md5'));
  await addResource('scram', await addIdentity('scram-sha-256'));
});

afterAll(async () => {
  await node?.close();
});

describe('node session', () => {
  it.each(['cleartext', 'md5', 'scram'])('signs in with the token by %s', async (resource) => {
    const client = await connectThrough(resource);
    const result = await client.query('SELECT current_user AS role, current_database() AS database, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    const identity = [...identities.values()].find((candidate) => candidate.role === result.rows[0].role);

    expect(identity).toBeDefined();
    expect(result.rows[0].database).toBe(identity!.database);
    expect(result.rows[0].ssl).toBe(true);
    await client.end();
  });

  it('never shows the token to the client', async () => {
    const tunnel = await node.tunnel('cleartext');
    const connection = await rawConnect(tunnel.port);
    connection.send(startupMessage({ user: 'anyone', application_name: 'raw-test' }));

    const first = await connection.waitFor('REZ');
    expect(first.code).toBe('R');
    expect(first.body.readInt32BE(0)).toBe(0);
    await connection.waitFor('Z');
    connection.send(queryMessage("SELECT current_setting('application_name') AS name"));
    const row = await connection.waitFor('D');
    expect(row.body.toString('utf8')).toContain('raw-test');
    await connection.waitFor('Z');
    connection.send(TERMINATE);

    expect(issuedTokens.length).toBeGreaterThan(0);
    const received = connection.received().toString('latin1');
    for (const token of issuedTokens) {
      expect(received.includes(token)).toBe(false);
    }
    connection.close();
  });

  it('relays the server refusing the token', async () => {
    const identity = await addIdentity('password');
    identity.role = identity.role.replace('mi_', 'mi_');
    await postgres.adminQuery(`ALTER ROLE ${identity.role} RENAME TO ${identity.role}_wrongpw`);
    identity.role = `${identity.role}_wrongpw`;
    await addResource('wrong-password', identity);

    const error = await connectError('wrong-password');

    expect(error.code).toBe('28P01');
    expect(error.message).toContain(identity.role);
    await expectNodeStillServes();
  });

  it('reports an unreachable server', async () => {
    const closedPort = await freePort();
    await addResource('down', [...identities.values()][0], { port: closedPort });

    const error = await connectError('down');

    expect(error.code).toBe('08001');
    expect(error.message).toContain('resource "down"');
    expect(error.message).toContain(`127.0.0.1:${closedPort}`);
    await expectNodeStillServes();
  });

  it('rejects a server certificate from another CA', async () => {
    const otherCa = await generateCertificateAuthority({ commonName: 'another CA' });
    await addResource('wrong-ca', [...identities.values()][0], { caPem: otherCa.certPem });

    const error = await connectError('wrong-ca');

    expect(error.code).toBe('08001');
    expect(error.message).toContain('resource "wrong-ca"');
    expect(error.message).toMatch(/certificate/i);
    await expectNodeStillServes();
  });

  it('reports a failing token service', async () => {
    const identity = await addIdentity('password');
    await addResource('token-down', identity);
    node.emulator.setFailure('error');
    try {
      const error = await connectError('token-down');

      expect(error.code).toBe('08001');
      expect(error.message).toContain('resource "token-down"');
      expect(error.message).toContain(identity.clientId);
    } finally {
      node.emulator.setFailure('none');
    }
    await expectNodeStillServes();
  });

  it('refuses a database outside the restriction', async () => {
    await addResource('restricted', [...identities.values()][0], { restrictDatabase: true });

    const error = await connectError('restricted', { database: 'postgres' });

    expect(error.code).toBe('42501');
    expect(error.message).toContain('resource "restricted"');
    const allowed = await connectThrough('restricted');
    await allowed.end();
  });

  it('rejects an unknown resource', async () => {
    const error = await connectError('no-such-resource');

    expect(error.code).toBe('08004');
    expect(error.message).toContain('no-such-resource');
  });

  it('rejects a wrong API token', async () => {
    const error = await connectError('cleartext', { token: 'sdm_not-a-real-token' });

    expect(error.code).toBe('28000');
    expect(error.message).not.toContain('sdm_not-a-real-token');
  });

  it('answers garbage after the hello with 08P01', async () => {
    const socket = await connectToNode({ host: '127.0.0.1', port: node.port, alpn: TUNNEL_ALPN, fingerprint: node.fingerprint });
    const hello = encodeFrame({ version: TUNNEL_PROTOCOL_VERSION, token: node.adminToken, resource: 'cleartext' });
    const garbage = Buffer.from([0, 0, 0, 12, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);
    const received = await exchange(socket, Buffer.concat([hello, garbage]));

    expect(received.toString('utf8')).toContain('"ok":true');
    expect(received.includes(Buffer.from('C08P01'))).toBe(true);
    await expectNodeStillServes();
  });

  it('closes an oversized hello', async () => {
    const socket = await connectToNode({ host: '127.0.0.1', port: node.port, alpn: TUNNEL_ALPN, fingerprint: node.fingerprint });
    const oversized = Buffer.alloc(8);
    oversized.writeUInt32BE(0x7fffffff, 0);
    const received = await exchange(socket, oversized);

    expect(received.toString('utf8')).toContain('bad_hello');
    await expectNodeStillServes();
  });

  it('answers an oversized startup packet with an error', async () => {
    const tunnel = await node.tunnel('cleartext');
    const connection = await rawConnect(tunnel.port);
    const huge = Buffer.alloc(16);
    huge.writeUInt32BE(1_000_000, 0);
    huge.writeUInt32BE(196608, 4);
    connection.send(huge);

    const error = errorOf(await connection.waitFor('E'));
    expect(error.code).toBe('08P01');
    connection.close();
    await expectNodeStillServes();
  });

  it('cancels a running statement', async () => {
    const tunnel = await node.tunnel('cleartext');
    const connection = await rawConnect(tunnel.port);
    connection.send(startupMessage({ user: 'anyone' }));
    const key = await connection.waitFor('K');
    await connection.waitFor('Z');
    connection.send(queryMessage('SELECT pg_sleep(30)'));

    const canceller = await rawConnect(tunnel.port);
    canceller.send(cancelMessage(key.body.readInt32BE(0), key.body.subarray(4)));

    const error = errorOf(await connection.waitFor('E'));
    expect(error.code).toBe('57014');
    connection.send(TERMINATE);
    connection.close();
    canceller.close();
  });

  it('rejects an invalid resource and keeps the stored one', async () => {
    const before = await node.api('GET', '/v1/resources/cleartext');
    const answer = await node.api('PATCH', '/v1/resources/cleartext', { port: 70000 });

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_value');
    expect(answer.body.error.field).toBe('port');
    expect(answer.body.error.message).toContain('70000');
    const after = await node.api('GET', '/v1/resources/cleartext');
    expect(after.body.port).toBe(before.body.port);
  });

  it('logs the session and its statements', async () => {
    const client = await connectThrough('scram');
    await client.query('SELECT 42 AS audited_simple');
    await client.query({ text: 'SELECT $1::int AS audited_extended', values: [7] });
    await client.end();

    const queries = await eventually(async () => {
      const answer = await node.api('GET', '/v1/logs/queries?resource=scram');
      const texts = (answer.body as Array<{ text: string }>).map((record) => record.text);
      return texts.some((text) => text.includes('audited_extended')) ? (answer.body as Array<{ text: string; protocol: string }>) : undefined;
    });
    expect(queries.find((record) => record.text.includes('audited_simple'))?.protocol).toBe('simple');
    expect(queries.find((record) => record.text.includes('audited_extended'))?.protocol).toBe('extended');

    const connections = await eventually(async () => {
      const answer = await node.api('GET', '/v1/logs/connections?resource=scram');
      const closed = (answer.body as Array<{ outcome: string; bytesToServer: number }>).filter((record) => record.outcome === 'closed');
      return closed.length > 0 ? closed : undefined;
    });
    expect(connections[0].bytesToServer).toBeGreaterThan(0);
  });
});

async function eventually<T>(probe: () => Promise<T | undefined>, attempts = 50): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`condition not met after ${attempts} attempts`);
}

function exchange(socket: net.Socket, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.write(bytes);
    setTimeout(() => socket.destroy(), 5_000).unref();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}
