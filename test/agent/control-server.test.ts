import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/control-client.js';
import { CONTROL_RESPONSE_TOO_LARGE, MAX_CONTROL_RESPONSE_BYTES } from '../../src/agent/control-protocol.js';
import { listenControlSocket, type ControlServer } from '../../src/agent/control-server.js';
import { SdmError } from '../../src/errors.js';
import { memoryLogger } from './agent-fixture.js';

let dir: string;
let server: ControlServer;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdm-control-'));
});

afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('control server', () => {
  it('replaces a response over the limit with an error', async () => {
    const socket = join(dir, 'agent.sock');
    server = await listenControlSocket(socket, async () => ({ text: 'x'.repeat(MAX_CONTROL_RESPONSE_BYTES) }), memoryLogger().logger);

    const error = await new AgentClient(socket).request({ op: 'ping' }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SdmError);
    expect((error as SdmError).code).toBe(CONTROL_RESPONSE_TOO_LARGE);
  });

  it('sends a response under the limit as it is', async () => {
    const socket = join(dir, 'agent.sock');
    server = await listenControlSocket(socket, async () => ({ text: 'x'.repeat(1000) }), memoryLogger().logger);

    expect(await new AgentClient(socket).request({ op: 'ping' })).toEqual({ text: 'x'.repeat(1000) });
  });
});
