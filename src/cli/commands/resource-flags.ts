// The flags of `sdm resource add` and `sdm resource update`. The node
// validates every field again and fills in defaults; the CLI checks only
// what commander can parse (numbers, choices). ../resource-options.ts turns
// the parsed flags into the request body.

import { Option, type Command } from 'commander';
import { TLS_MODES } from '../../store/types.js';
import { parsePort, parsePortOverride } from '../arg-parsers.js';

/** Flags that `resource add` requires; update takes each of them optionally. */
const REQUIRED_FOR_ADD = ['--hostname', '--database', '--username', '--client-id'];

/** Adds the flags shared by add and update; `mode` decides which are required and which `--no-…` flags exist. */
export function addResourceFlags(command: Command, mode: 'add' | 'update'): Command {
  const value = (flags: string, description: string): Option => {
    const option = new Option(flags, description);
    return mode === 'add' && REQUIRED_FOR_ADD.some((name) => flags.startsWith(name)) ? option.makeOptionMandatory() : option;
  };

  command
    .addOption(value('--hostname <host>', 'host name of the Azure Database for PostgreSQL server'))
    .addOption(new Option('--port <n>', 'PostgreSQL port of the server (default 5432)').argParser(parsePort))
    .addOption(value('--database <name>', 'database to connect to when the client names none'))
    .addOption(value('--username <role>', 'PostgreSQL role of the managed identity, or a secret store path'))
    .addOption(value('--client-id <id>', 'client ID of the user-assigned managed identity, or a secret store path'))
    .option('--restrict-database', 'allow only --database, whatever database the client requests')
    .option('--single-server-usernames', 'append @SERVER to the user name, as Single Server expects')
    .addOption(new Option('--port-override <n>', 'fixed local port the agent listens on for this resource').argParser(parsePortOverride))
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
