import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/exit-codes.js';
import { createHarness, loginTo, type Harness } from './cli-harness.js';
import { ADMIN_TOKEN, startFakeAdminNode, type FakeAdminNode, type RecordedRequest } from './fake-admin-node.js';

const NEW_TOKEN = 'tok-new-user-0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const NOW = new Date('2025-06-01T12:00:00.000Z');
const env = { SDM_TOKEN: ADMIN_TOKEN };
const user = { email: 'dev@example.com', admin: false, roles: ['readers'], createdAt: '2025-01-01T00:00:00.000Z' };
const role = { name: 'readers', resources: ['orders-db'], tags: ['env=dev'], members: ['dev@example.com'] };

let node: FakeAdminNode;
let harness: Harness;

beforeAll(async () => {
  node = await startFakeAdminNode();
  node.routes.set('POST /v1/users', () => ({ status: 201, body: { user, token: NEW_TOKEN } }));
  node.routes.set('GET /v1/users', () => ({ body: [user] }));
  node.routes.set('POST /v1/users/dev@example.com/rotate-token', () => ({ body: { token: NEW_TOKEN } }));
  node.routes.set('GET /v1/roles', () => ({ body: [role] }));
  node.routes.set('POST /v1/roles/readers/grants', () => ({ body: role }));
  node.routes.set('DELETE /v1/roles/readers/grants', () => ({ body: role }));
  node.routes.set('POST /v1/roles/readers/members', () => ({ body: role }));
  node.routes.set('DELETE /v1/roles/readers/members/dev@example.com', () => ({ body: role }));
  node.routes.set('GET /v1/logs/connections', () => ({
    body: [
      {
        rowId: 7,
        id: 'c1',
        startedAt: '2025-06-01T11:30:00.000Z',
        endedAt: null,
        user: 'dev@example.com',
        resource: 'orders-db',
        database: 'orders',
        clientAddress: '127.0.0.1',
        outcome: 'open',
        error: null,
        bytesToServer: 120,
        bytesToClient: 4096,
      },
    ],
  }));
  node.routes.set('GET /v1/logs/queries', () => ({ body: [] }));
});

afterAll(async () => {
  await node.close();
});

beforeEach(async () => {
  harness = await createHarness();
  await loginTo(harness.paths, node);
  node.requests.length = 0;
});

afterEach(async () => {
  await harness.remove();
});

function requestsTo(method: string, path: string): RecordedRequest[] {
  return node.requests.filter((request) => request.method === method && request.path === path);
}

describe('user', () => {
  it('add prints the token once', async () => {
    const result = await harness.run(['user', 'add', 'dev@example.com', '--role', 'readers', '--role', 'writers'], { env });
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toBe(`${NEW_TOKEN}\n`);
    expect(result.stderr).toContain('shown only this once');
    expect(requestsTo('POST', '/v1/users')[0].body).toEqual({ email: 'dev@example.com', admin: false, roles: ['readers', 'writers'] });
  });

  it('add prints JSON with the token', async () => {
    const result = await harness.run(['user', 'add', 'dev@example.com', '--admin', '--json'], { env });
    const printed = JSON.parse(result.stdout) as { token: string; user: { email: string } };
    expect(printed.token).toBe(NEW_TOKEN);
    expect(printed.user.email).toBe('dev@example.com');
    expect(requestsTo('POST', '/v1/users')[0].body).toEqual({ email: 'dev@example.com', admin: true, roles: [] });
  });

  it('rotate-token prints JSON', async () => {
    const result = await harness.run(['user', 'rotate-token', 'dev@example.com', '--json'], { env });
    expect(JSON.parse(result.stdout)).toEqual({ token: NEW_TOKEN });
  });

  it('list prints plain rows', async () => {
    const result = await harness.run(['user', 'list'], { env });
    expect(result.stdout.split('\n')[1]).toMatch(/^dev@example\.com {2,}no {2,}readers {2,}2025-01-01T00:00:00\.000Z$/);
  });

  it('delete of a missing user gives NOT_FOUND', async () => {
    const result = await harness.run(['user', 'delete', 'ghost@example.com'], { env });
    expect(result.code).toBe(ExitCode.NOT_FOUND);
  });
});

describe('role', () => {
  it('grant by resource', async () => {
    const result = await harness.run(['role', 'grant', 'readers', '--resource', 'orders-db'], { env });
    expect(result.code).toBe(ExitCode.OK);
    expect(requestsTo('POST', '/v1/roles/readers/grants').map((request) => request.body)).toEqual([{ resource: 'orders-db' }]);
  });

  it('grant by tags sends one per tag', async () => {
    await harness.run(['role', 'grant', 'readers', '--tags', 'env=dev,team=orders'], { env });
    expect(requestsTo('POST', '/v1/roles/readers/grants').map((request) => request.body)).toEqual([{ tag: 'env=dev' }, { tag: 'team=orders' }]);
  });

  it('revoke sends DELETE with a body', async () => {
    await harness.run(['role', 'revoke', 'readers', '--tags', 'env=dev'], { env });
    expect(requestsTo('DELETE', '/v1/roles/readers/grants').map((request) => request.body)).toEqual([{ tag: 'env=dev' }]);
  });

  it('grant needs exactly one target', async () => {
    const result = await harness.run(['role', 'grant', 'readers'], { env });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: give either --resource NAME or --tags k=v');
  });

  it('assign and unassign', async () => {
    await harness.run(['role', 'assign', 'readers', 'dev@example.com'], { env });
    await harness.run(['role', 'unassign', 'readers', 'dev@example.com'], { env });
    expect(requestsTo('POST', '/v1/roles/readers/members')[0].body).toEqual({ email: 'dev@example.com' });
    expect(requestsTo('DELETE', '/v1/roles/readers/members/dev@example.com')).toHaveLength(1);
  });

  it('list prints JSON', async () => {
    const result = await harness.run(['role', 'list', '--json'], { env });
    expect(JSON.parse(result.stdout)).toEqual([role]);
  });
});

describe('logs', () => {
  it('turns --since 1h into a time', async () => {
    await harness.run(['logs', 'connections', '--since', '1h', '--resource', 'orders-db'], { env, deps: { now: () => NOW } });
    const query = requestsTo('GET', '/v1/logs/connections')[0].query;
    expect(query.get('since')).toBe('2025-06-01T11:00:00.000Z');
    expect(query.get('resource')).toBe('orders-db');
  });

  it('passes an ISO time through', async () => {
    await harness.run(['logs', 'queries', '--until', '2025-05-31T00:00:00Z'], { env });
    expect(requestsTo('GET', '/v1/logs/queries')[0].query.get('until')).toBe('2025-05-31T00:00:00.000Z');
  });

  it('rejects a bad --since', async () => {
    const result = await harness.run(['logs', 'queries', '--since', 'yesterday'], { env });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: invalid --since "yesterday"');
  });

  it('prints JSON records', async () => {
    const result = await harness.run(['logs', 'connections', '--json'], { env });
    const records = JSON.parse(result.stdout) as Array<{ id: string; rowId: number }>;
    expect(records.map((record) => record.id)).toEqual(['c1']);
  });

  it('prints plain rows', async () => {
    const result = await harness.run(['logs', 'connections'], { env });
    expect(result.stdout.split('\n')[0]).toMatch(/^STARTED {2,}USER/);
    expect(result.stdout).toContain('orders-db');
  });
});

describe('logs --follow', () => {
  interface LoggedStatement {
    rowId: number;
    time: string;
    sessionId: string;
    user: string;
    resource: string;
    database: string;
    text: string;
    truncated: boolean;
    protocol: 'simple';
    parameters: null;
  }

  // A query log that grows as the CLI polls it: after each filtered poll of
  // --follow the next step of `traffic` is written.
  function simulatedQueryLog(traffic: Array<Array<[user: string, count: number]>>, afterFirstPage: Array<[user: string, count: number]> = []) {
    const log: LoggedStatement[] = [];
    const followPolls: Array<{ after: number | undefined; unscanned: number }> = [];
    const write = (user: string, count: number) => {
      for (let index = 0; index < count; index += 1) {
        const rowId = log.length + 1;
        log.push({
          rowId,
          time: new Date(NOW.getTime() + rowId * 1000).toISOString(),
          sessionId: `${user}-session`,
          user: `${user}@example.com`,
          resource: 'orders-db',
          database: 'orders',
          text: `select ${rowId}`,
          truncated: false,
          protocol: 'simple',
          parameters: null,
        });
      }
    };
    let stop: (signal: string) => void = () => undefined;
    const stopped = new Promise<string>((resolve) => (stop = resolve));

    node.routes.set('GET /v1/logs/queries', ({ query }) => {
      const user = query.get('user');
      const limit = Number(query.get('limit') ?? 100);
      const after = query.has('after') ? Number(query.get('after')) : undefined;
      const since = query.get('since');
      const matching = log.filter((record) => (user === null || record.user === user) && (since === null || record.time >= since));
      const body = after === undefined ? matching.slice(-limit) : matching.filter((record) => record.rowId > after).slice(0, limit);

      const isFollowPoll = user !== null && (after !== undefined || since !== null);
      if (user !== null && !isFollowPoll) {
        afterFirstPage.forEach(([writer, count]) => write(writer, count));
      }
      if (isFollowPoll) {
        followPolls.push({ after, unscanned: log.filter((record) => record.rowId > (after ?? 0)).length });
        const step = traffic.shift();
        if (step === undefined) {
          stop('SIGINT');
        } else {
          step.forEach(([writer, count]) => write(writer, count));
        }
      }
      return { body };
    });
    return { log, followPolls, write, waitForStop: () => stopped };
  }

  /** Runs `sdm logs queries --follow --json` for alice until the traffic ends; returns the row ids printed. */
  async function followAlice(simulated: ReturnType<typeof simulatedQueryLog>, extraArgs: string[] = [], clientNow = NOW): Promise<number[]> {
    const result = await harness.run(['logs', 'queries', '--follow', '--json', '--user', 'alice@example.com', ...extraArgs], {
      env,
      deps: { now: () => clientNow, followIntervalMs: 1 },
      waitForStop: simulated.waitForStop,
    });

    expect(result.code).toBe(ExitCode.OK);
    return result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as LoggedStatement).rowId);
  }

  it('continues after statements of other users', async () => {
    const simulated = simulatedQueryLog([[['bob', 5]], [['bob', 5]], [['alice', 1], ['bob', 4]], [['bob', 5]], []]);
    simulated.write('bob', 3);
    simulated.write('alice', 1);
    simulated.write('bob', 3);

    const printed = await followAlice(simulated);
    expect(printed).toEqual(simulated.log.filter((record) => record.user === 'alice@example.com').map((record) => record.rowId));
    expect(simulated.followPolls.length).toBeGreaterThanOrEqual(5);
    for (const poll of simulated.followPolls.slice(1)) {
      expect(poll.unscanned).toBeLessThanOrEqual(5);
    }
  });

  it('full first page keeps the rest', async () => {
    const simulated = simulatedQueryLog([[['alice', 5]], [], [], []]);

    expect(await followAlice(simulated, ['--limit', '2'])).toEqual([1, 2, 3, 4, 5]);
  });

  it('client clock ahead of the node', async () => {
    const simulated = simulatedQueryLog([[['alice', 1]], []], [['alice', 2]]);
    simulated.write('bob', 2);

    expect(await followAlice(simulated, [], new Date(NOW.getTime() + 3_600_000))).toEqual([3, 4, 5]);
  });

  it('reads a full page again before it pauses', async () => {
    const simulated = simulatedQueryLog([[['alice', 5]], [], [], []]);
    simulated.write('alice', 1);

    expect(await followAlice(simulated, ['--limit', '2'])).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
