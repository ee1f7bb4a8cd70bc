// `sdm status`: the resources the node lets this user reach, joined with the
// agent's listeners, so one view shows where each resource can be reached.

import { formatHostPort } from '../agent/address.js';
import { AgentUnreachableError } from '../agent/control-client.js';
import type { ListenerInfo } from '../agent/control-protocol.js';
import { loadState, type AgentState } from '../agent/state-file.js';
import type { ResourceView } from '../tunnel/admin-api.js';
import type { CliContext } from './context.js';
import { fetchResources, filterResources, formatTags } from './resource-select.js';

/** Time status waits for the agent's listeners; the agent responds from memory within milliseconds. */
const AGENT_STATUS_TIMEOUT_MS = 3_000;

export interface StatusRow {
  name: string;
  type: string;
  /** Loopback address of the listener, or the remembered one while disconnected, or null. */
  address: string | null;
  connected: boolean;
  activeConnections: number;
  health: { state: string; checkedAt: string | null; error: string | null };
  tags: Record<string, string>;
}

export async function showStatus(context: CliContext, options: { json?: boolean; filter?: string }): Promise<void> {
  // The agent and state.json are read while the node's request is in flight.
  // The catch only stops a local failure from counting as unhandled before it
  // is awaited, so a failure of the node is still the one reported.
  const local = Promise.all([agentListeners(context), loadState(context.paths)]);
  local.catch(() => undefined);
  const client = context.viaAgent(await context.session());
  const resources = filterResources(await fetchResources(client), options.filter);
  const [listeners, state] = await local;
  const rows = resources.map((resource) => statusRow(resource, listeners, state));

  if (options.json === true) {
    context.output.json(rows);
    return;
  }

  const colour = context.output.colour;
  await context.output.table(
    ['NAME', 'TYPE', 'ADDRESS', 'CONNECTED', 'HEALTH', 'TAGS'],
    rows.map((row) => [
      row.name,
      row.type,
      row.address ?? '-',
      row.connected ? colour.green('yes') : 'no',
      row.health.state === 'healthy' ? colour.green(row.health.state) : colour.red(row.health.state),
      formatTags(row.tags),
    ]),
  );
}

/**
 * Returns the agent's listeners, or none when no agent responds; status
 * never starts one. An agent that runs but fails to respond gets a warning,
 * because every resource then shows as not connected.
 */
async function agentListeners(context: CliContext): Promise<ListenerInfo[]> {
  try {
    return (await context.agentClient(AGENT_STATUS_TIMEOUT_MS).status()).listeners;
  } catch (error) {
    if (!(error instanceof AgentUnreachableError)) {
      throw error;
    }
    if (!error.agentIsAbsent) {
      context.output.warn(`${error.message}; CONNECTED shows no listeners. If the agent stays stuck, stop the process whose PID is in ${context.paths.pid}`);
    }
    return [];
  }
}

export function statusRow(resource: ResourceView, listeners: ListenerInfo[], state: AgentState): StatusRow {
  const listener = listeners.find((candidate) => candidate.name === resource.name);
  const remembered = state.resources[resource.name];
  const address = listener ?? (remembered === undefined ? undefined : { host: remembered.bindIp, port: remembered.port });

  return {
    name: resource.name,
    type: resource.type,
    address: address === undefined ? null : formatHostPort(address),
    connected: listener !== undefined,
    activeConnections: listener?.activeConnections ?? 0,
    health: { state: resource.health.state, checkedAt: resource.health.checkedAt, error: resource.health.error },
    tags: resource.tags,
  };
}
