import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/agent/control-client.js';
import { ExitCode } from '../../src/exit-codes.js';
import { createHarness, type Harness } from './cli-harness.js';

let harness: Harness;

beforeEach(async () => {
  harness = await createHarness();
});

afterEach(async () => {
  await harness.remove();
});

async function waitUntilRunning(client: AgentClient): Promise<boolean> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (await client.isRunning()) {
      return true;
    }
    await sleep(25);
  }
  return false;
}

describe('listen', () => {
  it('runs the agent until a signal', async () => {
    let stop: (signal: string) => void = () => undefined;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    const run = harness.run(['listen'], { waitForStop: () => stopped });

    const client = new AgentClient(harness.paths.socket);
    expect(await waitUntilRunning(client)).toBe(true);
    expect((await stat(harness.paths.pid)).isFile()).toBe(true);
    stop('SIGINT');

    const result = await run;
    expect(result.code).toBe(ExitCode.OK);
    expect(await client.isRunning()).toBe(false);
    expect(result.stderr).toContain('agent stopped');
  });

  it('stops a running agent', async () => {
    const run = harness.run(['listen']);
    const client = new AgentClient(harness.paths.socket);
    expect(await waitUntilRunning(client)).toBe(true);

    const stopResult = await harness.run(['listen', '--stop']);
    expect(stopResult.code).toBe(ExitCode.OK);
    expect(stopResult.stderr).toContain('the agent is stopping');
    expect((await run).code).toBe(ExitCode.OK);
  });

  it('stop without an agent', async () => {
    const result = await harness.run(['listen', '--stop']);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stderr).toContain('the agent is not running');
  });
});
