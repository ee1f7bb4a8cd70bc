// state.json in SDM_HOME: the resources the agent has listened for, the
// address each one got, and whether it is connected now. A restarted agent
// listens again on the same addresses, so PG* settings users already hold
// keep working.

import { ensureHome, PRIVATE_FILE_MODE, type SdmPaths } from './home.js';
import { readJsonFile, writeJsonFile } from './json-file.js';

export interface RememberedResource {
  name: string;
  bindIp: string;
  port: number;
  connected: boolean;
  database?: string;
}

export interface AgentState {
  resources: Record<string, RememberedResource>;
}

/** Reads state.json; a missing file is an empty state, and malformed entries are dropped. */
export async function loadState(paths: SdmPaths): Promise<AgentState> {
  const value = (await readJsonFile(paths.state)) as { resources?: Record<string, unknown> } | undefined;
  const state = emptyState();

  for (const [name, entry] of Object.entries(value?.resources ?? {})) {
    const remembered = checkEntry(name, entry);
    if (remembered !== undefined) {
      state.resources[name] = remembered;
    }
  }
  return state;
}

/**
 * Returns a state whose map has no prototype, so that resource names such as
 * `__proto__` or `constructor` are plain keys.
 */
export function emptyState(): AgentState {
  return { resources: Object.create(null) as Record<string, RememberedResource> };
}

export async function saveState(paths: SdmPaths, state: AgentState): Promise<void> {
  await ensureHome(paths.home);
  await writeJsonFile(paths.state, state, PRIVATE_FILE_MODE);
}

function checkEntry(name: string, entry: unknown): RememberedResource | undefined {
  const candidate = entry as Partial<RememberedResource> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.bindIp !== 'string' ||
    typeof candidate.port !== 'number' ||
    typeof candidate.connected !== 'boolean'
  ) {
    return undefined;
  }

  return {
    name,
    bindIp: candidate.bindIp,
    port: candidate.port,
    connected: candidate.connected,
    database: typeof candidate.database === 'string' ? candidate.database : undefined,
  };
}

/**
 * Marks resources as disconnected in state.json, or removes them with their
 * ports. It is for when no agent runs, so that the next agent does not listen
 * again for them. `names` of 'all' covers every remembered resource.
 */
export async function disconnectInState(paths: SdmPaths, names: string[] | 'all', forgetPorts: boolean): Promise<void> {
  const state = await loadState(paths);
  const targets = names === 'all' ? Object.keys(state.resources) : names.filter((name) => state.resources[name] !== undefined);

  for (const name of targets) {
    if (forgetPorts) {
      delete state.resources[name];
    } else {
      state.resources[name].connected = false;
    }
  }
  if (targets.length > 0) {
    await saveState(paths, state);
  }
}
