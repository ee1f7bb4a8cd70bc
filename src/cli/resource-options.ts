// The flags of `sdm resource add` and `sdm resource update`, and their
// conversion to the JSON body of the admin API. The node validates every
// field again and fills in defaults; the CLI checks only what commander can
// parse (numbers, choices) and reads the CA file.

import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ValidationError } from '../errors.js';
import { TLS_MODES } from '../store/types.js';

const MAX_PORT = 65_535;

export interface ResourceFlags {
  hostname?: string;
  port?: number;
  database?: string;
  username?: string;
  clientId?: string;
  restrictDatabase?: boolean;
  singleServerUsernames?: boolean;
  /** A port, or false after --no-port-override. */
  portOverride?: number | false;
  ip?: string;
  /** `k=v,…` text, or false after --no-tags. */
  tags?: string | false;
  proxyCluster?: string | false;
  secretStore?: string;
  tlsMode?: string;
  caFile?: string | false;
  json?: boolean;
}

/** Parses a TCP port argument; commander reports the error as a usage error. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > MAX_PORT) {
    throw new InvalidArgumentError(`expected a port number from 1 to ${MAX_PORT}.`);
  }
  return port;
}

/** Adds the flags shared by add and update; `required` marks the ones add needs. */
export function addResourceFlags(command: Command, mode: 'add' | 'update'): Command {
  const value = (flags: string, description: string): Option => {
    const option = new Option(flags, description);
    return mode === 'add' && ['--hostname', '--database', '--username', '--client-id'].some((name) => flags.startsWith(name))
      ? option.makeOptionMandatory()
      : option;
  };

  command
    .addOption(value('--hostname <host>', 'host name of the Azure Database for PostgreSQL server'))
    .addOption(new Option('--port <n>', 'PostgreSQL port of the server (default 5432)').argParser(parsePort))
    .addOption(value('--database <name>', 'database to connect to when the client names none'))
    .addOption(value('--username <role>', 'PostgreSQL role of the managed identity, or a secret store path'))
    .addOption(value('--client-id <id>', 'client ID of the user-assigned managed identity, or a secret store path'))
    .option('--restrict-database', 'allow only --database, whatever database the client requests')
    .option('--single-server-usernames', 'append @SERVER to the user name, as Single Server expects')
    .addOption(new Option('--port-override <n>', 'fixed local port the agent listens on for this resource').argParser(parsePort))
    .option('--ip <address>', 'loopback address the agent binds for this resource (default 127.0.0.1)')
    .option('--tags <k=v,...>', 'tags, replacing any the resource has')
    .option('--proxy-cluster <name>', 'proxy cluster whose nodes serve this resource')
    .option('--secret-store <name>', 'secret store that contains --username and --client-id (default built-in)')
    .addOption(new Option('--tls-mode <mode>', 'how the node verifies the server (default verify-full)').choices(TLS_MODES))
    .option('--ca-file <pem>', 'PEM file of the CA that signs the server certificate')
    .option('--json', 'print the resource as JSON');

  if (mode === 'update') {
    command
      .option('--no-restrict-database', 'let the client choose the database')
      .option('--no-single-server-usernames', 'send the user name unchanged')
      .option('--no-port-override', 'let the agent choose the local port')
      .option('--no-tags', 'remove every tag')
      .option('--no-proxy-cluster', 'serve the resource from any node')
      .option('--no-ca-file', 'verify the server against the system CAs');
  }
  return command;
}

/** Builds the JSON body from the flags given; flags left out are left out of the body. */
export async function resourceBody(flags: ResourceFlags): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {
    hostname: flags.hostname,
    port: flags.port,
    database: flags.database,
    username: flags.username,
    clientId: flags.clientId,
    restrictDatabase: flags.restrictDatabase,
    singleServerUsernames: flags.singleServerUsernames,
    portOverride: flags.portOverride === false ? null : flags.portOverride,
    bindIp: flags.ip,
    tags: flags.tags === false ? {} : flags.tags,
    proxyCluster: flags.proxyCluster === false ? null : flags.proxyCluster,
    secretStore: flags.secretStore,
    tlsMode: flags.tlsMode,
    caPem: await caPemOf(flags.caFile),
  };

  for (const key of Object.keys(body)) {
    if (body[key] === undefined) {
      delete body[key];
    }
  }
  return body;
}

/** Returns the PEM text to send: null after --no-ca-file, undefined when the flag is absent. */
async function caPemOf(caFile: string | false | undefined): Promise<string | null | undefined> {
  if (caFile === false) {
    return null;
  }
  if (caFile === undefined) {
    return undefined;
  }
  return readPem(caFile);
}

async function readPem(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ValidationError('caPem', `cannot read --ca-file ${path}: ${(error as Error).message}`);
  }
}
