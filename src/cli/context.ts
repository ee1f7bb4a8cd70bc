// The context of every command action: the streams, the client state paths,
// and lazily built clients for the node and the agent.

import { AgentClient, AgentUnreachableError } from '../agent/control-client.js';
import { CONTROL_RESPONSE_TOO_LARGE, NODE_GET_PATHS, type NodeGetResult } from '../agent/control-protocol.js';
import { requireConfig, type ClientConfig } from '../agent/client-config.js';
import { CredentialStore } from '../agent/credential-store.js';
import { checkSocketPath, resolveHome, sdmPaths, type SdmPaths } from '../agent/home.js';
import { formatHostPort } from '../agent/address.js';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { CliDeps, CliIo } from './io.js';
import { NodeClient, type RawResponse } from './node-client.js';
import { Output } from './output.js';
import { terminalPrompter, type Prompter } from './prompt.js';

const FOLLOW_POLL_INTERVAL_MS = 1_000;

/**
 * Time the CLI waits for a node-get before it sends the request itself. A
 * healthy agent responds within a few milliseconds plus the node's own time,
 * so a stuck one holds up status or completion for this long at most.
 */
const NODE_GET_TIMEOUT_MS = 3_000;

export interface NodeSession {
  config: ClientConfig;
  /** The API token; pass it on only to the node and the agent, never to output. */
  token: string;
  client: NodeClient;
}

export class CliContext {
  readonly io: CliIo;
  readonly deps: CliDeps;
  readonly output: Output;
  readonly paths: SdmPaths;
  /** Words after `--` on the command line, which only sdm connect accepts. */
  readonly passthrough: string[];
  /** Exit code of a run whose action completed; an action sets it to report a result such as an unhealthy resource. */
  exitCode: number = ExitCode.OK;

  constructor(io: CliIo, deps: CliDeps, passthrough: string[]) {
    this.io = io;
    this.deps = deps;
    this.output = new Output(io);
    this.paths = sdmPaths(resolveHome(io.env));
    this.passthrough = passthrough;
  }

  credentials(): CredentialStore {
    return new CredentialStore({
      paths: this.paths,
      env: this.io.env,
      keyring: this.deps.keyring,
      warn: (message) => this.output.warn(message),
    });
  }

  /** Loads the node address and the token; throws AUTH errors when either is missing. */
  async session(): Promise<NodeSession> {
    const config = await requireConfig(this.paths);
    const found = await this.credentials().getToken(config.gateway);
    if (found === undefined) {
      const address = formatHostPort(config.gateway);
      throw new SdmError('not_logged_in', `no API token stored for the node at ${address}`, {
        exitCode: ExitCode.AUTH,
        hint: `run sdm login --gateway ${address}, or set SDM_TOKEN`,
      });
    }

    const target = { ...config.gateway, fingerprint: config.fingerprint, caPem: config.caPem };
    return { config, token: found.token, client: new NodeClient(target, found.token) };
  }

  async nodeClient(): Promise<NodeClient> {
    return (await this.session()).client;
  }

  /**
   * Returns a node client for `session` whose GETs go through the running
   * agent, which has TLS loaded already, and directly to the node when no
   * agent responds. The quick commands (status, connect, completion) use it.
   * It never starts an agent.
   */
  viaAgent(session: NodeSession): NodeClient {
    return new NodeClient(session.client.target, session.token, undefined, (path, token) => this.getThroughAgent(path, token));
  }

  private async getThroughAgent(path: string, token: string): Promise<RawResponse | undefined> {
    if (!NODE_GET_PATHS.includes(path)) {
      return undefined;
    }
    try {
      return (await this.agentClient(NODE_GET_TIMEOUT_MS).request({ op: 'node-get', path, token })) as NodeGetResult;
    } catch (error) {
      // An older agent rejects the op as a bad request.
      const declined = error instanceof SdmError && [CONTROL_RESPONSE_TOO_LARGE, 'bad_request', 'socket_path_too_long'].includes(error.code);
      if (error instanceof AgentUnreachableError || declined) {
        return undefined;
      }
      throw error;
    }
  }

  /** Returns a client of the agent's control socket; throws `socket_path_too_long` when SDM_HOME is too long for a socket. */
  agentClient(timeoutMs?: number): AgentClient {
    checkSocketPath(this.paths);
    return new AgentClient(this.paths.socket, timeoutMs);
  }

  prompter(): Prompter {
    return this.deps.prompt ?? terminalPrompter(this.io.stdin, this.io.stderr);
  }

  now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** Pause between two polls of `sdm logs --follow`. */
  followIntervalMs(): number {
    return this.deps.followIntervalMs ?? FOLLOW_POLL_INTERVAL_MS;
  }

  /** True when both stdin and stderr are terminals, so a question can be asked and answered. */
  interactive(): boolean {
    return this.io.stdin.isTTY === true && this.io.stderr.isTTY === true;
  }
}
