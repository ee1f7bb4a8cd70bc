import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/exit-codes.js';
import { createHarness, loginTo, type Harness } from './cli-harness.js';
import { ADMIN_TOKEN, startFakeAdminNode, type FakeAdminNode } from './fake-admin-node.js';

let node: FakeAdminNode;
let harness: Harness;
const env = { SDM_TOKEN: ADMIN_TOKEN };

beforeAll(async () => {
  node = await startFakeAdminNode();
  node.routes.set('POST /v1/roles', () => ({
    status: 400,
    body: { error: { code: 'invalid_value', message: 'invalid role name "bad\\"role"' } },
  }));
  node.routes.set('POST /v1/users', () => ({ status: 409, body: { error: { code: 'conflict', message: 'user a@example.com already exists' } } }));
});

afterAll(async () => {
  await node.close();
});

beforeEach(async () => {
  harness = await createHarness();
  await loginTo(harness.paths, node);
});

afterEach(async () => {
  await harness.remove();
});

interface ErrorBody {
  error: { code: string; message: string; hint: string };
}

describe('error hints', () => {
  it('not found names the listing', async () => {
    const result = await harness.run(['resource', 'show', 'nosuch'], { env });
    expect(result.code).toBe(ExitCode.NOT_FOUND);
    expect(result.stderr).toContain('hint: run sdm resource list to see the resources you may reach');
  });

  it('user not found names the user listing', async () => {
    const result = await harness.run(['user', 'delete', 'x@example.com'], { env });
    expect(result.code).toBe(ExitCode.NOT_FOUND);
    expect(result.stderr).toContain('hint: run sdm user list to see the users');
  });

  it('conflict names the listing', async () => {
    const result = await harness.run(['user', 'add', 'a@example.com'], { env });
    expect(result.code).toBe(ExitCode.CONFLICT);
    expect(result.stderr).toContain('hint: run sdm user list to see the users');
  });

  it('bad request points to help', async () => {
    const result = await harness.run(['role', 'add', 'bad"role'], { env });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: invalid role name "bad\\"role"\n');
    expect(result.stderr).toContain('hint: run sdm role add --help to see the usage');
  });
});

describe('errors with --json', () => {
  it('node error is one JSON object', async () => {
    const result = await harness.run(['resource', 'show', 'nosuch', '--json'], { env });
    const body = JSON.parse(result.stderr) as ErrorBody;
    expect(result.code).toBe(ExitCode.NOT_FOUND);
    expect(body.error.code).toBe('not_found');
    expect(body.error.message).toBe('no route GET /v1/resources/nosuch');
    expect(body.error.hint).toBe('run sdm resource list to see the resources you may reach');
    expect(result.stdout).toBe('');
  });

  it('usage error is one JSON object', async () => {
    const result = await harness.run(['status', '--json', '--jsno']);
    const body = JSON.parse(result.stderr) as ErrorBody;
    expect(result.code).toBe(ExitCode.USAGE);
    expect(body.error.code).toBe('commander.unknownOption');
    expect(body.error.message).toBe("unknown option '--jsno' (Did you mean --json?)");
    expect(body.error.hint).toBe('run sdm status --help to see the usage');
  });

  it('local error is one JSON object', async () => {
    const result = await harness.run(['status', '--json'], { env: { SDM_TOKEN: '' } });
    const body = JSON.parse(result.stderr) as ErrorBody;
    expect(result.code).toBe(ExitCode.AUTH);
    expect(body.error.code).toBe('not_logged_in');
  });

  it('text stays without --json', async () => {
    const result = await harness.run(['resource', 'show', 'nosuch'], { env });
    expect(result.stderr).toMatch(/^error: no route GET \/v1\/resources\/nosuch\nhint: /);
  });
});
