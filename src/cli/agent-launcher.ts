// Starting the agent in the background when sdm connect finds no agent on
// the control socket: `sdm listen` runs detached, its output goes to
// agent.log, and the CLI waits (bounded) until the socket accepts requests.

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentClient, AgentUnreachableError } from '../agent/control-client.js';
import { checkSocketPath, ensureHome, PRIVATE_FILE_MODE, type SdmPaths } from '../agent/home.js';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { binPath } from './package-root.js';

/** Time the CLI waits for a freshly started agent to respond on its socket. */
export const AGENT_START_TIMEOUT_MS = 10_000;

/** Pause between two checks of the socket while the agent starts. */
export const AGENT_POLL_INTERVAL_MS = 50;

/** Time one check waits for the agent's ping response; a running agent responds within milliseconds. */
export const AGENT_PROBE_TIMEOUT_MS = 3_000;

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

/**
 * Returns a client of a running agent, starting one first when none runs.
 * An agent that keeps the socket but does not respond is reported at once,
 * because a new agent could not listen there either.
 */
export async function ensureAgent(paths: SdmPaths, env: Record<string, string | undefined>, launch: AgentLauncher = spawnAgent): Promise<AgentClient> {
  checkSocketPath(paths);
  const client = new AgentClient(paths.socket);
  const probe = new AgentClient(paths.socket, AGENT_PROBE_TIMEOUT_MS);
  try {
    await probe.ping();
    return client;
  } catch (error) {
    if (!(error instanceof AgentUnreachableError)) {
      throw error;
    }
    if (!error.agentIsAbsent) {
      throw new SdmError('agent_unresponsive', `${error.message}; no new agent can listen on that socket while it is held`, {
        exitCode: ExitCode.UNREACHABLE,
        hint: `stop the process whose PID is in ${paths.pid}, then run the command again`,
      });
    }
  }

  await launch(paths, env);
  const deadline = Date.now() + AGENT_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await probe.isRunning()) {
      return client;
    }
    await sleep(AGENT_POLL_INTERVAL_MS);
  }

  throw new SdmError('agent_start_failed', `the agent did not respond on ${paths.socket} within ${AGENT_START_TIMEOUT_MS} ms of starting (timed out)`, {
    exitCode: ExitCode.UNREACHABLE,
    hint: `read ${paths.log} for the reason, or run sdm listen in another terminal to see it`,
  });
}
