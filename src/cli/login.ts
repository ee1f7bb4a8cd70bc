// `sdm login` and `sdm logout`. Login trusts the node by a pinned
// fingerprint, by a CA file, or on a terminal by the fingerprint shown and
// confirmed as ssh does. It checks the token with GET /v1/whoami, and only
// then stores the node address and the token.

import { readFile } from 'node:fs/promises';
import { formatHostPort, parseHostPort, type HostPort } from '../agent/address.js';
import { checkEnvironmentToken, checkTokenCharacters } from '../agent/api-token.js';
import { loadConfig, saveConfig, type ClientConfig } from '../agent/client-config.js';
import { checkSocketPath } from '../agent/home.js';
import { disconnectInState } from '../agent/state-file.js';
import { SdmError, ValidationError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { WhoAmI } from '../tunnel/admin-api.js';
import { normalizeFingerprint } from '../tunnel/fingerprint.js';
import type { CliContext } from './context.js';
import { NodeClient } from './node-client.js';
import { readAllInput } from './stdin.js';

export interface LoginOptions {
  gateway: string;
  fingerprint?: string;
  caFile?: string;
  tokenStdin?: boolean;
}

type Trust = Pick<ClientConfig, 'fingerprint' | 'caPem'>;

export async function login(context: CliContext, options: LoginOptions): Promise<void> {
  const gateway = parseHostPort(options.gateway, '--gateway');
  const trust = await decideTrust(context, gateway, options);
  const { token, fromEnvironment } = await readToken(context, options);

  const client = new NodeClient({ ...gateway, ...trust }, token);
  const whoami = await client.get<WhoAmI>('/v1/whoami');

  await saveConfig(context.paths, { gateway, ...trust });
  const loggedIn = `logged in to ${formatHostPort(gateway)} as ${whoami.email}${whoami.admin ? ' (admin)' : ''}`;
  // A CI job keeps its token in SDM_TOKEN, which every command reads, so
  // writing it to disk would only leave a copy behind on the runner.
  // A token stored earlier may be another user's, and would take over
  // silently once SDM_TOKEN is unset, so it is removed.
  if (fromEnvironment) {
    await context.credentials().forgetToken(gateway);
    context.output.line(`${loggedIn}; token not stored, because sdm reads SDM_TOKEN while it is set`);
    return;
  }
  const location = await context.credentials().saveToken(gateway, token);
  context.output.line(`${loggedIn}; token stored in the ${location === 'keyring' ? 'OS keyring' : 'credentials file'}`);
}

async function decideTrust(context: CliContext, gateway: HostPort, options: LoginOptions): Promise<Trust> {
  if (options.fingerprint !== undefined) {
    const fingerprint = normalizeFingerprint(options.fingerprint);
    if (fingerprint === undefined) {
      throw new ValidationError('fingerprint', `invalid --fingerprint "${options.fingerprint}": expected 32 hex pairs such as AB:CD:…, as sdm gateway init prints`);
    }
    return { fingerprint };
  }
  if (options.caFile !== undefined) {
    return { caPem: await readCaFile(options.caFile) };
  }
  return { fingerprint: await confirmFingerprint(context, gateway) };
}

async function readCaFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ValidationError('ca-file', `cannot read --ca-file ${path}: ${(error as Error).message}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ValidationError('ca-file', `--ca-file ${path} contains no PEM certificate; expected text starting with -----BEGIN CERTIFICATE-----`);
  }
  return text;
}

/** Shows the certificate fingerprint the node presents and requests confirmation, as ssh does on a first connection. */
async function confirmFingerprint(context: CliContext, gateway: HostPort): Promise<string> {
  const address = formatHostPort(gateway);
  if (!context.interactive()) {
    throw new SdmError('fingerprint_required', `no fingerprint given for the node at ${address}, and no terminal to confirm one`, {
      exitCode: ExitCode.UNTRUSTED,
      hint: 'pass --fingerprint SHA256 as sdm gateway init printed it, or --ca-file PEM',
    });
  }

  const { fetchNodeFingerprint } = await import('../tunnel/tls.js');
  const fingerprint = await fetchNodeFingerprint(gateway.host, gateway.port);
  context.output.note(`The node at ${address} presents a certificate with SHA-256 fingerprint\n  ${fingerprint}`);
  context.output.note('Compare it with the fingerprint sdm gateway init printed on the node.');

  const trusted = await context.prompter().confirm('Trust this node and continue? (yes/no) ');
  if (!trusted) {
    throw new SdmError('fingerprint_rejected', `the fingerprint of the node at ${address} was not confirmed`, {
      exitCode: ExitCode.UNTRUSTED,
      hint: 'run sdm login again with --fingerprint once you have the fingerprint from the node',
    });
  }
  return fingerprint;
}

/** Reads the token from stdin, SDM_TOKEN or a prompt, and checks its characters. */
async function readToken(context: CliContext, options: LoginOptions): Promise<{ token: string; fromEnvironment: boolean }> {
  let token: string | undefined;
  let fromEnvironment = false;
  if (options.tokenStdin === true) {
    token = withoutFinalNewline(await readAllInput(context.io.stdin));
    checkInputToken(token, 'stdin');
  } else if (context.io.env.SDM_TOKEN !== undefined && context.io.env.SDM_TOKEN !== '') {
    token = context.io.env.SDM_TOKEN;
    fromEnvironment = true;
    checkEnvironmentToken(token);
  } else if (context.interactive()) {
    token = (await context.prompter().secret('API token: ')).trim();
    checkInputToken(token, 'the prompt');
  }

  if (token === undefined || token === '') {
    throw new SdmError('token_missing', 'no API token given', {
      exitCode: ExitCode.USAGE,
      hint: 'pipe it in with --token-stdin, set SDM_TOKEN, or run sdm login on a terminal to type it',
    });
  }
  return { token, fromEnvironment };
}

/** Removes the one line ending that `echo` and most files leave after the token. */
function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

function checkInputToken(token: string, source: string): void {
  checkTokenCharacters(token, source, ExitCode.USAGE, 'give the token alone on one line, as sdm user add printed it');
}

export async function logout(context: CliContext): Promise<void> {
  const config = await loadConfig(context.paths);
  if (config === undefined) {
    context.output.note('not logged in; nothing to forget');
    return;
  }

  await context.credentials().forgetToken(config.gateway);
  // No agent can run where its socket path would be too long, so only the saved state is left to clear.
  const agent = socketPathFits(context) ? context.agentClient() : undefined;
  if (agent !== undefined && (await agent.isRunning())) {
    const { disconnected } = await agent.disconnect({ all: true, forgetToken: true });
    for (const name of disconnected) {
      context.output.note(`disconnected ${name}`);
    }
  } else {
    await disconnectInState(context.paths, 'all', false);
  }

  context.output.line(`logged out of ${formatHostPort(config.gateway)}`);
  if (context.io.env.SDM_TOKEN !== undefined && context.io.env.SDM_TOKEN !== '') {
    context.output.warn('SDM_TOKEN is set, and sdm keeps using it until you unset it');
  }
}

function socketPathFits(context: CliContext): boolean {
  try {
    checkSocketPath(context.paths);
    return true;
  } catch {
    return false;
  }
}
