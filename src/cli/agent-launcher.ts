// Starting the agent in the background when sdm connect finds no agent on
// the control socket: `sdm listen` runs detached, its output goes to
// agent.log, and the CLI waits (bounded) until the socket accepts requests.

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentClient } from '../agent/control-client.js';
import { checkSocketPath, ensureHome, PRIVATE_FILE_MODE, type SdmPaths } from '../agent/home.js';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { binPath } from './package-root.js';

/** Time the CLI waits for a freshly started agent to respond on its socket. */
export const AGENT_START_TIMEOUT_MS = 10_000;

/** Pause between two checks of the socket while the agent starts. */
export const AGENT_POLL_INTERVAL_MS = 50;

export type AgentLauncher = (paths: SdmPaths, env: Record<string, string | undefined>) => Promise<void>;

/** Spawns `sdm listen` detached from this process, with stdout and stderr appended to agent.log. */
export async function spawnAgent(paths: SdmPaths, env: Record<string, string | undefined>): Promise<void> {
  await ensureHome(paths.home);
  const logFd = openSync(paths.log, 'a', PRIVATE_FILE_MODE);
  try {
    const child = spawn(process.execPath, [binPath(), 'listen'], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: { ...env, SDM_HOME: paths.home },
    });
    child.unref();
  } finally {
    closeSync(logFd);
  }
}

/** Returns a client of a running agent, starting one first when none responds. */
export async function ensureAgent(paths: SdmPaths, env: Record<string, string | undefined>, launch: AgentLauncher = spawnAgent): Promise<AgentClient> {
  checkSocketPath(paths);
  const client = new AgentClient(paths.socket);
  if (await client.isRunning()) {
    return client;
  }

  await launch(paths, env);
  const deadline = Date.now() + AGENT_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await client.isRunning()) {
      return client;
    }
    await sleep(AGENT_POLL_INTERVAL_MS);
  }

  throw new SdmError('agent_start_failed', `the agent did not respond on ${paths.socket} within ${AGENT_START_TIMEOUT_MS} ms of starting (timed out)`, {
    exitCode: ExitCode.UNREACHABLE,
    hint: `read ${paths.log} for the reason, or run sdm listen in another terminal to see it`,
  });
}
