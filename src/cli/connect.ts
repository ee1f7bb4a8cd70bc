// `sdm connect` and `sdm disconnect`. Connect fetches from the node the
// resources this user may reach, makes sure the agent runs, and requests one
// loopback listener per resource from it. It then prints where to connect, prints
// PG* settings for eval, or runs a command with them.

import { formatHostPort } from '../agent/address.js';
import type { AgentClient } from '../agent/control-client.js';
import type { ListenerInfo } from '../agent/control-protocol.js';
import { checkSocketPath } from '../agent/home.js';
import { disconnectInState } from '../agent/state-file.js';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { BUILT_IN_SECRET_STORE } from '../store/types.js';
import type { ResourceView } from '../tunnel/admin-api.js';
import { ensureAgent } from './agent-launcher.js';
import type { CliContext } from './context.js';
import { checkSelection, fetchResources, selectResources } from './resource-select.js';
import { callerEnvironment, runCommand } from './run-command.js';
import { exportLine } from './shell-quote.js';

export interface ConnectOptions {
  all?: boolean;
  filter?: string;
  env?: boolean;
  json?: boolean;
}

export interface DisconnectOptions {
  all?: boolean;
  forgetPort?: boolean;
}

export interface Connection {
  name: string;
  host: string;
  port: number;
  database: string;
  user: string;
  env: Record<string, string>;
}

export async function connect(context: CliContext, names: string[], options: ConnectOptions): Promise<void> {
  const command = context.passthrough;
  const selection = { names, all: options.all, filter: options.filter };
  checkConnectOptions(options, command);
  checkSelection(selection);
  checkSocketPath(context.paths);

  const session = await context.session();
  const resources = selectResources(await fetchResources(context.viaAgent(session)), selection);
  if ((options.env === true || command.length > 0) && resources.length !== 1) {
    throw new SdmError('usage', `--env and -- COMMAND need exactly one resource, but ${resources.length} were selected`, {
      exitCode: ExitCode.USAGE,
      hint: 'name one resource, or narrow --filter',
    });
  }

  const agent = await ensureAgent(context.paths, context.io.env, context.deps.launchAgent);
  const connectedBefore = new Set((await agent.status()).listeners.map((listener) => listener.name));
  const connections = await listenFor(context, agent, resources, session.token);

  if (command.length > 0) {
    const fresh = connections.map((connection) => connection.name).filter((name) => !connectedBefore.has(name));
    context.exitCode = await runThenDisconnect(context, agent, command, connections[0], fresh);
    return;
  }
  printConnections(context, connections, options);
}

/** Requests a listener per resource from the agent and prints `NAME → ADDRESS` for each on stderr. */
async function listenFor(context: CliContext, agent: AgentClient, resources: ResourceView[], token: string): Promise<Connection[]> {
  const connections: Connection[] = [];
  for (const resource of resources) {
    const { listener } = await agent.connect({
      resource: { name: resource.name, bindIp: resource.bindIp, portOverride: resource.portOverride, database: resource.database },
      token,
    });
    connections.push(describeConnection(resource, listener));
    context.output.note(`${resource.name} → ${formatHostPort(listener)}`);
  }
  return connections;
}

/** Runs the command with the PG* settings, then disconnects the resources that were connected only for it. */
async function runThenDisconnect(context: CliContext, agent: AgentClient, command: string[], connection: Connection, fresh: string[]): Promise<number> {
  const run = context.deps.runCommand ?? runCommand;
  try {
    return await run(command, callerEnvironment({ ...context.io.env, ...connection.env }));
  } finally {
    if (fresh.length > 0) {
      await agent.disconnect({ names: fresh });
    }
  }
}

function checkConnectOptions(options: ConnectOptions, command: string[]): void {
  const modes = [options.env === true, options.json === true, command.length > 0].filter(Boolean).length;
  if (modes > 1) {
    throw new SdmError('usage', '--env, --json and -- COMMAND exclude one another', { exitCode: ExitCode.USAGE, hint: 'choose one of them' });
  }
}

export function describeConnection(resource: ResourceView, listener: ListenerInfo): Connection {
  // The node replaces the user name with the resource's, so PGUSER only has
  // to be plausible; a secret-store path is no PostgreSQL role name.
  const user = resource.secretStore === BUILT_IN_SECRET_STORE ? resource.username : 'sdm';
  return {
    name: resource.name,
    host: listener.host,
    port: listener.port,
    database: resource.database,
    user,
    env: {
      PGHOST: listener.host,
      PGPORT: String(listener.port),
      PGDATABASE: resource.database,
      PGUSER: user,
      PGSSLMODE: 'disable',
    },
  };
}

function printConnections(context: CliContext, connections: Connection[], options: ConnectOptions): void {
  if (options.json === true) {
    context.output.json(connections);
  } else if (options.env === true) {
    context.output.line(exportLine(connections[0].env));
  }
}

export async function disconnect(context: CliContext, names: string[], options: DisconnectOptions): Promise<void> {
  checkSelection({ names, all: options.all });

  const agent = context.agentClient();
  if (!(await agent.isRunning())) {
    await disconnectInState(context.paths, options.all === true ? 'all' : names, options.forgetPort === true);
    context.output.note('the agent is not running, so nothing is connected; it will not listen for these resources when it starts');
    return;
  }

  const { disconnected } = await agent.disconnect({ names, all: options.all, forgetPorts: options.forgetPort });
  for (const name of options.all === true ? disconnected : names) {
    context.output.note(disconnected.includes(name) ? `disconnected ${name}` : `${name} was not connected`);
  }
}

