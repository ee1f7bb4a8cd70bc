import { readFile, stat } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/agent/client-config.js';
import { ExitCode } from '../../src/exit-codes.js';
import { createHarness, loginTo, type Harness } from './cli-harness.js';
import { ADMIN_TOKEN, startFakeAdminNode, type FakeAdminNode } from './fake-admin-node.js';

let node: FakeAdminNode;
let harness: Harness;

beforeAll(async () => {
  node = await startFakeAdminNode();
});

afterAll(async () => {
  await node.close();
});

beforeEach(async () => {
  harness = await createHarness();
});

afterEach(async () => {
  await harness.remove();
});

function gateway(): string {
  return `${node.host}:${node.port}`;
}

describe('login', () => {
  it('pins the fingerprint and stores the token', async () => {
    const result = await harness.run(['login', '--gateway', gateway(), '--fingerprint', node.fingerprint, '--token-stdin'], { stdin: `${ADMIN_TOKEN}\n` });
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain(`logged in to ${gateway()} as admin@example.com (admin)`);

    const config = await loadConfig(harness.paths);
    expect(config?.gateway).toEqual({ host: node.host, port: node.port });
    expect(config?.fingerprint).toBe(node.fingerprint);
  });

  it('falls back to a 0600 file with one notice', async () => {
    const result = await harness.run(['login', '--gateway', gateway(), '--fingerprint', node.fingerprint, '--token-stdin'], { stdin: ADMIN_TOKEN });
    const info = await stat(harness.paths.credentials);
    expect(info.mode & 0o777).toBe(0o600);
    expect(await readFile(harness.paths.credentials, 'utf8')).toContain(ADMIN_TOKEN);
    expect(result.stderr.match(/warning: no OS keyring is available/g)).toHaveLength(1);
  });

  it('never prints the token', async () => {
    const result = await harness.run(['login', '--gateway', gateway(), '--fingerprint', node.fingerprint, '--token-stdin'], { stdin: ADMIN_TOKEN });
    expect(result.stdout).not.toContain(ADMIN_TOKEN);
    expect(result.stderr).not.toContain(ADMIN_TOKEN);
  });

  it('leaves a token from SDM_TOKEN unstored', async () => {
    await harness.run(['login', '--gateway', gateway(), '--fingerprint', node.fingerprint, '--token-stdin'], { stdin: ADMIN_TOKEN });
    expect(await readFile(harness.paths.credentials, 'utf8')).toContain(ADMIN_TOKEN);

    const result = await harness.run(['login', '--gateway', gateway(), '--fingerprint', node.fingerprint], { env: { SDM_TOKEN: ADMIN_TOKEN } });

    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain('token not stored, because sdm reads SDM_TOKEN while it is set');
    expect(await readFile(harness.paths.credentials, 'utf8').catch(() => '')).not.toContain(ADMIN_TOKEN);
    expect(await loadConfig(harness.paths)).toMatchObject({ fingerprint: node.fingerprint });
    node.routes.set('GET /v1/resources', () => ({ body: [] }));
    expect((await harness.run(['status', '--json'], { env: { SDM_TOKEN: ADMIN_TOKEN } })).code).toBe(ExitCode.OK);
  });

  it('sends the token as a bearer token', async () => {
    await harness.run(['login', '--gateway', gateway(), '--fingerprint', node.fingerprint], { env: { SDM_TOKEN: ADMIN_TOKEN } });
    const whoami = node.requests.filter((request) => request.path === '/v1/whoami').at(-1);
    expect(whoami?.authorization).toBe(`Bearer ${ADMIN_TOKEN}`);
  });

  it('rejects a wrong token with AUTH', async () => {
    const result = await harness.run(['login', '--gateway', gateway(), '--fingerprint', node.fingerprint, '--token-stdin'], { stdin: 'wrong' });
    expect(result.code).toBe(ExitCode.AUTH);
    expect(result.stderr).toContain('error: not logged in or token rejected');
    expect(result.stderr).toContain('hint: run sdm login');
    expect(await loadConfig(harness.paths)).toBeUndefined();
  });

  it('needs a fingerprint without a terminal', async () => {
    const result = await harness.run(['login', '--gateway', gateway()], { env: { SDM_TOKEN: ADMIN_TOKEN } });
    expect(result.code).toBe(ExitCode.UNTRUSTED);
    expect(result.stderr).toContain(`error: no fingerprint given for the node at ${gateway()}`);
    expect(result.stderr).toContain('hint: pass --fingerprint');
  });

  it('rejects a mismatched fingerprint', async () => {
    const wrong = 'AB:'.repeat(31) + 'AB';
    const result = await harness.run(['login', '--gateway', gateway(), '--fingerprint', wrong], { env: { SDM_TOKEN: ADMIN_TOKEN } });
    expect(result.code).toBe(ExitCode.UNTRUSTED);
    expect(result.stderr).toContain(node.fingerprint);
    expect(result.stderr).toContain(wrong);
  });

  it('rejects a malformed fingerprint', async () => {
    const result = await harness.run(['login', '--gateway', gateway(), '--fingerprint', 'not-hex'], { env: { SDM_TOKEN: ADMIN_TOKEN } });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('invalid --fingerprint "not-hex"');
  });

  it('confirms on a terminal like ssh', async () => {
    const questions: string[] = [];
    const prompt = {
      secret: async () => ADMIN_TOKEN,
      confirm: async (question: string) => {
        questions.push(question);
        return true;
      },
    };
    const result = await harness.run(['login', '--gateway', gateway()], { tty: true, deps: { prompt } });
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stderr).toContain(node.fingerprint);
    expect(questions).toHaveLength(1);
    expect((await loadConfig(harness.paths))?.fingerprint).toBe(node.fingerprint);
  });

  it('stops when the fingerprint is declined', async () => {
    const prompt = { secret: async () => ADMIN_TOKEN, confirm: async () => false };
    const result = await harness.run(['login', '--gateway', gateway()], { tty: true, deps: { prompt } });
    expect(result.code).toBe(ExitCode.UNTRUSTED);
    expect(await loadConfig(harness.paths)).toBeUndefined();
  });

  it('needs a token without a terminal', async () => {
    const result = await harness.run(['login', '--gateway', gateway(), '--fingerprint', node.fingerprint]);
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: no API token given');
    expect(result.stderr).toContain('--token-stdin');
  });

  it('unreachable node gives UNREACHABLE', async () => {
    const result = await harness.run(['login', '--gateway', '127.0.0.1:9', '--fingerprint', node.fingerprint], { env: { SDM_TOKEN: ADMIN_TOKEN } });
    expect(result.code).toBe(ExitCode.UNREACHABLE);
    expect(result.stderr).toContain('cannot reach the sdm node at 127.0.0.1:9');
  });
});

describe('logout', () => {
  it('forgets the token', async () => {
    await harness.run(['login', '--gateway', gateway(), '--fingerprint', node.fingerprint, '--token-stdin'], { stdin: ADMIN_TOKEN });
    const result = await harness.run(['logout']);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain(`logged out of ${gateway()}`);
    expect(await readFile(harness.paths.credentials, 'utf8')).not.toContain(ADMIN_TOKEN);

    const status = await harness.run(['status']);
    expect(status.code).toBe(ExitCode.AUTH);
    expect(status.stderr).toContain(`error: no API token stored for the node at ${gateway()}`);
  });

  it('is quiet when not logged in', async () => {
    await loginTo(harness.paths, node);
    const result = await harness.run(['logout']);
    expect(result.code).toBe(ExitCode.OK);
  });
});
