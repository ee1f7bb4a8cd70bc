import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { AgentClient } from '../../src/agent/control-client.js';
import type { SdmPaths } from '../../src/agent/home.js';
import { loadState } from '../../src/agent/state-file.js';
import { silentLogger } from '../../src/log.js';
import { ExitCode } from '../../src/exit-codes.js';
import type { CliDeps } from '../../src/cli/io.js';
import { createHarness, loginTo, type Harness } from './cli-harness.js';
import { ADMIN_TOKEN, resourceView, startFakeAdminNode, type FakeAdminNode } from './fake-admin-node.js';

let node: FakeAdminNode;
let harness: Harness;
let agents: RunningAgent[];
let launches: number;
const env = { SDM_TOKEN: ADMIN_TOKEN };

beforeAll(async () => {
  node = await startFakeAdminNode();
  node.routes.set('GET /v1/resources', () => ({
    body: [
      resourceView('orders-db', { database: 'orders', username: 'orders_app', tags: { env: 'dev' } }),
      resourceView('odd-db', { database: "it's mine", tags: { env: 'dev' } }),
      resourceView('billing-db', { tags: { env: 'prod' } }),
    ],
  }));
});

afterAll(async () => {
  await node.close();
});

beforeEach(async () => {
  harness = await createHarness();
  await loginTo(harness.paths, node);
  agents = [];
  launches = 0;
});

afterEach(async () => {
  for (const agent of agents) {
    await agent.close();
  }
  await harness.remove();
});

/** Starts the agent in this process, where sdm connect would spawn `sdm listen`. */
function deps(extra: CliDeps = {}): CliDeps {
  return {
    launchAgent: async (paths: SdmPaths) => {
      launches += 1;
      agents.push(await startAgent({ paths, env: {}, logger: silentLogger(), keyring: null }));
    },
    ...extra,
  };
}

async function listenerNames(): Promise<string[]> {
  const { listeners } = await new AgentClient(harness.paths.socket).status();
  return listeners.map((listener) => listener.name);
}

describe('connect', () => {
  it('starts the agent and prints the address', async () => {
    const result = await harness.run(['connect', 'orders-db'], { env, deps: deps() });
    expect(result.code).toBe(ExitCode.OK);
    expect(launches).toBe(1);
    expect(result.stderr).toMatch(/^orders-db → 127\.0\.0\.1:\d+$/m);
    expect(await listenerNames()).toEqual(['orders-db']);
  });

  it('reports an agent that does not respond', async () => {
    const accepted: net.Socket[] = [];
    const stuckAgent = net.createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => stuckAgent.listen(harness.paths.socket, resolve));
    try {
      const result = await harness.run(['connect', 'orders-db'], { env, deps: deps() });

      expect(result.code).toBe(ExitCode.UNREACHABLE);
      expect(result.stderr).toContain('no response within 3000 ms (timed out); no new agent can listen on that socket while it is held');
      expect(result.stderr).toContain(`stop the process whose PID is in ${harness.paths.pid}`);
      expect(launches).toBe(0);
    } finally {
      accepted.forEach((socket) => socket.destroy());
      await new Promise((resolve) => stuckAgent.close(resolve));
    }
  });

  it('reuses a running agent', async () => {
    await harness.run(['connect', 'orders-db'], { env, deps: deps() });
    await harness.run(['connect', 'billing-db'], { env, deps: deps() });
    expect(launches).toBe(1);
    expect((await listenerNames()).sort()).toEqual(['billing-db', 'orders-db']);
  });

  it('prints export lines for eval', async () => {
    const result = await harness.run(['connect', 'orders-db', '--env'], { env, deps: deps() });
    const port = /127\.0\.0\.1:(\d+)/.exec(result.stderr)?.[1];
    expect(result.stdout).toBe(`export PGHOST=127.0.0.1 PGPORT=${port} PGDATABASE=orders PGUSER=orders_app PGSSLMODE=disable\n`);
  });

  it('quotes values for the shell', async () => {
    const result = await harness.run(['connect', 'odd-db', '--env'], { env, deps: deps() });
    expect(result.stdout).toContain(`PGDATABASE='it'\\''s mine'`);
  });

  it('prints JSON', async () => {
    const result = await harness.run(['connect', '--all', '--filter', 'tags:env=dev', '--json'], { env, deps: deps() });
    const connections = JSON.parse(result.stdout) as Array<{ name: string; host: string; port: number; env: Record<string, string> }>;
    expect(connections.map((connection) => connection.name)).toEqual(['orders-db', 'odd-db']);
    expect(connections[0].env.PGPORT).toBe(String(connections[0].port));
    expect(connections[0].env.PGSSLMODE).toBe('disable');
  });

  it('unknown name gives NOT_FOUND', async () => {
    const result = await harness.run(['connect', 'nope'], { env, deps: deps() });
    expect(result.code).toBe(ExitCode.NOT_FOUND);
    expect(result.stderr).toContain('error: resource nope not found, or not granted to you');
    expect(launches).toBe(0);
  });

  it('--env needs one resource', async () => {
    const result = await harness.run(['connect', '--all', '--env'], { env, deps: deps() });
    expect(result.code).toBe(ExitCode.USAGE);
    expect(result.stderr).toContain('need exactly one resource, but 3 were selected');
  });

  it('runs a command and disconnects after', async () => {
    const seen: Array<{ command: string[]; port?: string }> = [];
    const runCommand = async (command: string[], childEnv: Record<string, string | undefined>) => {
      seen.push({ command, port: childEnv.PGPORT });
      return 3;
    };
    const result = await harness.run(['connect', 'orders-db', '--', 'psql', '-c', 'select 1'], { env, deps: deps({ runCommand }) });

    expect(result.code).toBe(3);
    expect(seen[0].command).toEqual(['psql', '-c', 'select 1']);
    expect(result.stderr).toContain(`127.0.0.1:${seen[0].port}`);
    expect(await listenerNames()).toEqual([]);
  });

  it('missing command exits 127', async () => {
    const result = await harness.run(['connect', 'orders-db', '--', '/nonexistent'], { env, deps: deps() });
    expect(result.code).toBe(127);
    expect(result.stderr).toContain('error: cannot run /nonexistent: command not found');
    expect(result.stderr).toContain('hint: check the command name and PATH');
    expect(await listenerNames()).toEqual([]);
  });

  it('non-executable command exits 126', async () => {
    const file = join(harness.paths.home, 'not-executable.sh');
    await writeFile(file, '#!/bin/sh\n', { mode: 0o644 });
    const result = await harness.run(['connect', 'orders-db', '--', file], { env, deps: deps() });
    expect(result.code).toBe(126);
    expect(result.stderr).toContain(`error: cannot run ${file}: permission denied`);
  });

  it('keeps an earlier connection after a command', async () => {
    await harness.run(['connect', 'orders-db'], { env, deps: deps() });
    const result = await harness.run(['connect', 'orders-db', '--', 'true'], { env, deps: deps({ runCommand: async () => 0 }) });
    expect(result.code).toBe(ExitCode.OK);
    expect(await listenerNames()).toEqual(['orders-db']);
  });
});

describe('disconnect', () => {
  it('stops the listener', async () => {
    await harness.run(['connect', 'orders-db'], { env, deps: deps() });
    const result = await harness.run(['disconnect', 'orders-db']);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stderr).toContain('disconnected orders-db');
    expect(await listenerNames()).toEqual([]);
  });

  it('reports a name that was not connected', async () => {
    await harness.run(['connect', 'orders-db'], { env, deps: deps() });
    const result = await harness.run(['disconnect', 'billing-db']);
    expect(result.stderr).toContain('billing-db was not connected');
  });

  it('updates the state without an agent', async () => {
    await harness.run(['connect', 'orders-db'], { env, deps: deps() });
    await agents.pop()!.close();
    const result = await harness.run(['disconnect', '--all']);
    expect(result.code).toBe(ExitCode.OK);
    expect((await loadState(harness.paths)).resources['orders-db'].connected).toBe(false);
  });

  it('logout disconnects everything', async () => {
    await harness.run(['connect', 'orders-db', 'billing-db'], { env, deps: deps() });
    const result = await harness.run(['logout']);
    expect(result.stderr).toContain('disconnected orders-db');
    expect(await listenerNames()).toEqual([]);
  });
});
