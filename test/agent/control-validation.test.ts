import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/control-client.js';
import type { RunningAgent } from '../../src/agent/agent.js';
import type { ConnectRequest } from '../../src/agent/control-protocol.js';
import type { SdmPaths } from '../../src/agent/home.js';
import { MAX_PORT_OVERRIDE, MIN_PORT_OVERRIDE } from '../../src/agent/port-override.js';
import * as nodeRules from '../../src/store/resource-validation.js';
import { SdmError } from '../../src/errors.js';
import { ExitCode } from '../../src/exit-codes.js';
import { memoryLogger, pinNode, runAgent, tempHome } from './agent-fixture.js';

let home: { paths: SdmPaths; remove(): Promise<void> };
let agent: RunningAgent | undefined;
let client: AgentClient;

beforeEach(async () => {
  home = await tempHome();
  await pinNode(home.paths, { host: '127.0.0.1', port: 1, fingerprint: 'AA' });
  agent = await runAgent(home.paths, memoryLogger().logger);
  client = new AgentClient(home.paths.socket);
});

afterEach(async () => {
  await agent?.close();
  await home.remove();
});

/** Sends a connect request as any local process could, bypassing the CLI's checks. */
async function connectError(resource: Record<string, unknown>): Promise<SdmError> {
  const request = { op: 'connect', resource, token: 'test-token' } as unknown as ConnectRequest;
  return client.request(request).then(
    () => {
      throw new Error('the agent accepted the request');
    },
    (error: SdmError) => error,
  );
}

describe('control connect validation', () => {
  it('rejects a privileged port', async () => {
    const error = await connectError({ name: 'evil', bindIp: '127.0.0.1', portOverride: 80 });
    expect(error.code).toBe('bad_request');
    expect(error.exitCode).toBe(ExitCode.USAGE);
    expect(error.message).toContain('expected null or an integer from 1024 to 64999');
  });

  it('rejects a negative port', async () => {
    const error = await connectError({ name: 'db', bindIp: '127.0.0.1', portOverride: -5 });
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain('connect.resource.portOverride -5 is out of range');
  });

  it('rejects a port above the range', async () => {
    const error = await connectError({ name: 'db', bindIp: '127.0.0.1', portOverride: 65_000 });
    expect(error.code).toBe('bad_request');
  });

  it('rejects a fractional port', async () => {
    const error = await connectError({ name: 'db', bindIp: '127.0.0.1', portOverride: 2000.5 });
    expect(error.code).toBe('bad_request');
  });

  it('rejects a non-loopback address', async () => {
    const error = await connectError({ name: 'db', bindIp: '0.0.0.0', portOverride: null });
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain('"0.0.0.0" is not a loopback address');
  });

  it('rejects a host name', async () => {
    const error = await connectError({ name: 'db', bindIp: 'localhost', portOverride: null });
    expect(error.code).toBe('bad_request');
  });

  it('rejects a name with a line break', async () => {
    const error = await connectError({ name: 'db\nevil', bindIp: '127.0.0.1', portOverride: null });
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain('without control characters');
  });

  it('rejects an empty name', async () => {
    const error = await connectError({ name: '', bindIp: '127.0.0.1', portOverride: null });
    expect(error.code).toBe('bad_request');
  });

  it('binds nothing for a rejected request', async () => {
    await connectError({ name: 'evil', bindIp: '127.0.0.1', portOverride: 80 });
    expect((await client.status()).listeners).toEqual([]);
  });

  it('accepts ::1 without an override', async () => {
    const { listener } = await client.connect({ resource: { name: 'db', bindIp: '::1', portOverride: null }, token: 'test-token' });
    expect(listener.host).toBe('::1');
  });
});

describe('port override range', () => {
  it('matches the node', () => {
    expect(MIN_PORT_OVERRIDE).toBe(nodeRules.MIN_PORT_OVERRIDE);
    expect(MAX_PORT_OVERRIDE).toBe(nodeRules.MAX_PORT_OVERRIDE);
  });
});

describe('agent socket path', () => {
  it('long SDM_HOME fails before listening', async () => {
    const paths = { ...home.paths, home: join(home.paths.home, 'h'.repeat(140)), socket: join(home.paths.home, 'h'.repeat(140), 'agent.sock') };
    const error = await runAgent(paths, memoryLogger().logger).catch((caught: SdmError) => caught);
    expect((error as SdmError).code).toBe('socket_path_too_long');
    expect((error as SdmError).message).toContain('SDM_HOME');
    expect((error as SdmError).hint).toContain('set SDM_HOME to a shorter directory');
    expect(existsSync(paths.home)).toBe(false);
  });
});

describe('control node-get validation', () => {
  async function nodeGetError(request: Record<string, unknown>): Promise<SdmError> {
    return client.request({ op: 'node-get', ...request } as unknown as ConnectRequest).then(
      () => {
        throw new Error('the agent accepted the request');
      },
      (error: SdmError) => error,
    );
  }

  it('rejects a path outside the admin API', async () => {
    const error = await nodeGetError({ path: '/etc/passwd', token: 'test-token' });
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain('must be one of /v1/resources');
  });

  it('rejects other and encoded admin paths', async () => {
    expect((await nodeGetError({ path: '/v1/users', token: 'test-token' })).code).toBe('bad_request');
    expect((await nodeGetError({ path: '/v1/%2e%2e/v1/resources', token: 'test-token' })).code).toBe('bad_request');
  });

  it('rejects a complete overlong line', async () => {
    const error = await nodeGetError({ path: `/v1/${'x'.repeat(300_000)}`, token: 'test-token' });
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain('exceeds');
  });

  it('rejects a path with a line break', async () => {
    const error = await nodeGetError({ path: '/v1/resources\r\nX-Evil: 1', token: 'test-token' });
    expect(error.code).toBe('bad_request');
  });

  it('rejects a request without a token', async () => {
    const error = await nodeGetError({ path: '/v1/resources' });
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain('token');
  });

  it('reports a down node as unreachable', async () => {
    await pinNode(home.paths, { host: '127.0.0.1', port: 1, fingerprint: Array(32).fill('AB').join(':') });
    const error = await nodeGetError({ path: '/v1/resources', token: 'test-token' });
    expect(error.exitCode).toBe(ExitCode.UNREACHABLE);
  });
});
