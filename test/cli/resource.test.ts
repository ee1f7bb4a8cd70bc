import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/exit-codes.js';
import { createHarness, loginTo, type Harness } from './cli-harness.js';
import { ADMIN_TOKEN, resourceView, startFakeAdminNode, type FakeAdminNode, type RecordedRequest } from './fake-admin-node.js';

let node: FakeAdminNode;
let harness: Harness;
const env = { SDM_TOKEN: ADMIN_TOKEN };

beforeAll(async () => {
  node = await startFakeAdminNode();
});

afterAll(async () => {
  await node.close();
});

beforeEach(async () => {
  harness = await createHarness();
  await loginTo(harness.paths, node);
  node.requests.length = 0;
  node.routes.set('POST /v1/resources', (request) => ({ status: 201, body: resourceView('orders-db', request.body as object) }));
  node.routes.set('PATCH /v1/resources/orders-db', (request) => ({ body: resourceView('orders-db', request.body as object) }));
  node.routes.set('GET /v1/resources', () => ({ body: [resourceView('orders-db'), resourceView('billing-db')] }));
  node.routes.set('GET /v1/resources/orders-db', () => ({ body: resourceView('orders-db') }));
});

afterEach(async () => {
  await harness.remove();
});

function lastRequest(): RecordedRequest {
  return node.requests[node.requests.length - 1];
}

const ADD = [
  'resource', 'add', 'azure-postgres-mi', 'orders-db',
  '--hostname', 'orders.postgres.database.azure.com',
  '--database', 'orders',
  '--username', 'orders_app',
  '--client-id', '11111111-2222-3333-4444-555555555555',
];

describe('resource', () => {
  it('add sends the given fields', async () => {
    const result = await harness.run([...ADD, '--port', '6432', '--tags', 'env=prod,team=orders', '--restrict-database', '--tls-mode', 'verify-ca'], { env });
    expect(result.code).toBe(ExitCode.OK);
    expect(lastRequest().method).toBe('POST');
    expect(lastRequest().body).toEqual({
      type: 'azure-postgres-mi',
      name: 'orders-db',
      hostname: 'orders.postgres.database.azure.com',
      port: 6432,
      database: 'orders',
      username: 'orders_app',
      clientId: '11111111-2222-3333-4444-555555555555',
      restrictDatabase: true,
      tags: 'env=prod,team=orders',
      tlsMode: 'verify-ca',
    });
  });

  it('add sends the CA file text', async () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const path = join(harness.paths.home, 'ca.pem');
    await writeFile(path, pem);
    await harness.run([...ADD, '--ca-file', path], { env });
    expect((lastRequest().body as { caPem: string }).caPem).toBe(pem);
  });

  it('add needs the required flags', async () => {
    const result = await harness.run(['resource', 'add', 'azure-postgres-mi', 'orders-db', '--hostname', 'h'], { env });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain("required option '--database <name>' not specified");
  });

  it('add rejects another type', async () => {
    const result = await harness.run(['resource', 'add', 'mysql', 'orders-db', ...ADD.slice(4)], { env });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('unknown resource type "mysql"');
  });

  it('add prints JSON', async () => {
    const result = await harness.run([...ADD, '--json'], { env });
    const resource = JSON.parse(result.stdout) as { name: string; health: { state: string } };
    expect(resource.name).toBe('orders-db');
    expect(resource.health.state).toBe('healthy');
  });

  it('update sends only changes', async () => {
    const result = await harness.run(['resource', 'update', 'orders-db', '--no-port-override', '--no-restrict-database', '--ip', '127.0.0.2'], { env });
    expect(result.code).toBe(ExitCode.OK);
    expect(lastRequest().method).toBe('PATCH');
    expect(lastRequest().body).toEqual({ portOverride: null, restrictDatabase: false, bindIp: '127.0.0.2' });
  });

  it('update without changes is a usage error', async () => {
    const result = await harness.run(['resource', 'update', 'orders-db'], { env });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: no change given');
  });

  it('invalid field gives USAGE naming it', async () => {
    node.routes.set('POST /v1/resources', () => ({
      status: 400,
      body: { error: { code: 'invalid_value', field: 'hostname', message: 'invalid hostname "bad host": expected a DNS name or an IP address' } },
    }));
    const result = await harness.run(ADD, { env });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: invalid hostname "bad host"');
  });

  it('duplicate gives CONFLICT', async () => {
    node.routes.set('POST /v1/resources', () => ({ status: 409, body: { error: { code: 'conflict', message: 'resource "orders-db" already exists' } } }));
    const result = await harness.run(ADD, { env });
    expect(result.code).toBe(ExitCode.CONFLICT);
    expect(result.stderr).toContain('error: resource "orders-db" already exists');
  });

  it('non-admin gives AUTH', async () => {
    node.routes.set('POST /v1/resources', () => ({ status: 403, body: { error: { code: 'forbidden', message: 'POST /v1/resources needs an admin' } } }));
    const result = await harness.run(ADD, { env });
    expect(result.code).toBe(ExitCode.AUTH);
    expect(result.stderr).toContain('error: access denied: POST /v1/resources needs an admin');
  });

  it('show of a missing resource gives NOT_FOUND', async () => {
    const result = await harness.run(['resource', 'show', 'nope'], { env });
    expect(result.code).toBe(ExitCode.NOT_FOUND);
    expect(result.stderr).toContain('error: no route GET /v1/resources/nope');
  });

  it('show prints fields', async () => {
    const result = await harness.run(['resource', 'show', 'orders-db'], { env });
    expect(result.stdout).toMatch(/^name: +orders-db$/m);
    expect(result.stdout).toMatch(/^TLS mode: +verify-full$/m);
  });

  it('list filters and prints JSON', async () => {
    const result = await harness.run(['resource', 'list', '--json', '--filter', 'name:bill*'], { env });
    const names = (JSON.parse(result.stdout) as Array<{ name: string }>).map((resource) => resource.name);
    expect(names).toEqual(['billing-db']);
  });

  it('delete names the resource', async () => {
    node.routes.set('DELETE /v1/resources/orders-db', () => ({ body: { deleted: true } }));
    const result = await harness.run(['resource', 'delete', 'orders-db', '--json'], { env });
    expect(JSON.parse(result.stdout)).toEqual({ name: 'orders-db', deleted: true });
  });

  it('healthcheck exits 1 when unhealthy', async () => {
    node.routes.set('POST /v1/resources/orders-db/healthcheck', () => ({
      body: { resource: 'orders-db', state: 'unhealthy', checkedAt: '2025-01-01T00:00:00.000Z', durationMs: 5, error: 'password authentication failed' },
    }));
    const result = await harness.run(['resource', 'healthcheck', 'orders-db'], { env });
    expect(result.code).toBe(ExitCode.FAILURE);
    expect(result.stdout).toContain('orders-db: unhealthy: password authentication failed');
  });

  it('healthcheck exits 0 when healthy', async () => {
    node.routes.set('POST /v1/resources/orders-db/healthcheck', () => ({
      body: { resource: 'orders-db', state: 'healthy', checkedAt: '2025-01-01T00:00:00.000Z', durationMs: 5, error: null },
    }));
    const result = await harness.run(['resource', 'healthcheck', 'orders-db'], { env });
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toBe('orders-db: healthy (5 ms)\n');
  });
});
