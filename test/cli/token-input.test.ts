import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeBadTokenCharacter } from '../../src/agent/api-token.js';
import { ExitCode } from '../../src/exit-codes.js';
import { createHarness, loginTo, type Harness } from './cli-harness.js';
import { ADMIN_TOKEN, startFakeAdminNode, type FakeAdminNode } from './fake-admin-node.js';

let node: FakeAdminNode;
let harness: Harness;

beforeAll(async () => {
  node = await startFakeAdminNode();
  node.routes.set('GET /v1/resources', () => ({ body: [] }));
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

function loginArgs(): string[] {
  return ['login', '--gateway', `${node.host}:${node.port}`, '--fingerprint', node.fingerprint, '--token-stdin'];
}

describe('token from stdin', () => {
  it('line break inside is rejected', async () => {
    const result = await harness.run(loginArgs(), { stdin: 'sdm_x\nnow\n' });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('error: invalid API token from stdin: it contains a line break at character 6 of 9');
    expect(result.stderr).not.toContain('sdm_x');
    expect(result.stderr).not.toContain('this is a bug');
  });

  it('space inside is rejected', async () => {
    const result = await harness.run(loginArgs(), { stdin: 'sdm_x y\n' });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('it contains whitespace at character 6 of 7');
  });

  it('control character is rejected', async () => {
    const result = await harness.run(loginArgs(), { stdin: 'sdm_\u0007x' });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('a control character (U+0007)');
  });

  it('one CRLF line ending is removed', async () => {
    const result = await harness.run(loginArgs(), { stdin: `${ADMIN_TOKEN}\r\n` });
    expect(result.code).toBe(ExitCode.OK);
  });

  it('second trailing newline is rejected', async () => {
    const result = await harness.run(loginArgs(), { stdin: `${ADMIN_TOKEN}\n\n` });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).not.toContain(ADMIN_TOKEN);
  });
});

describe('SDM_TOKEN', () => {
  it('line break gives AUTH without the token', async () => {
    await loginTo(harness.paths, node);
    const result = await harness.run(['resource', 'list'], { env: { SDM_TOKEN: 'sdm_x\ny' } });
    expect(result.code).toBe(ExitCode.AUTH);
    expect(result.stderr).toContain('error: invalid API token from SDM_TOKEN: it contains a line break');
    expect(result.stderr).toContain('hint: set SDM_TOKEN to the token alone');
    expect(result.stderr).not.toContain('sdm_x');
    expect(result.stderr).not.toContain('this is a bug');
  });

  it('line break at login gives AUTH', async () => {
    const args = loginArgs().slice(0, -1);
    const result = await harness.run(args, { env: { SDM_TOKEN: 'sdm_x\ny' } });
    expect(result.code).toBe(ExitCode.AUTH);
    expect(result.stderr).toContain('invalid API token from SDM_TOKEN');
  });

  it('valid token still works', async () => {
    await loginTo(harness.paths, node);
    const result = await harness.run(['resource', 'list', '--json'], { env: { SDM_TOKEN: ADMIN_TOKEN } });
    expect(result.code).toBe(ExitCode.OK);
  });
});

describe('token characters', () => {
  it('accepts an issued token', () => {
    expect(describeBadTokenCharacter('sdm_uloDUs_meZmmiHxeZMd2tkVOZR1gKmTKexQhDRMJt7E')).toBeUndefined();
  });

  it('names a character outside ASCII', () => {
    expect(describeBadTokenCharacter('sdm_é')).toBe('a character outside ASCII at character 5 of 5');
  });

  it('names a DEL', () => {
    expect(describeBadTokenCharacter('\u007f')).toBe('a control character (U+007F) at character 1 of 1');
  });
});
