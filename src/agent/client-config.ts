// config.json in SDM_HOME: which node the client talks to and how it trusts
// that node's certificate. `sdm login` writes it; the CLI and the agent read it.

import { stat } from 'node:fs/promises';

import { ensureHome, PRIVATE_FILE_MODE, type SdmPaths } from './home.js';
import { readJsonFile, writeJsonFile } from './json-file.js';
import { type HostPort } from './address.js';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

export interface ClientConfig {
  gateway: HostPort;
  /** Pinned SHA-256 fingerprint of the node's certificate, as upper-case hex pairs. */
  fingerprint?: string;
  /** PEM text of a CA that signs the node's certificate, used instead of a pinned fingerprint. */
  caPem?: string;
}

/** Raised when no config.json exists, so the node to use is unknown. */
export class NotLoggedInError extends SdmError {
  constructor() {
    super('not_logged_in', 'not logged in to a node', {
      exitCode: ExitCode.AUTH,
      hint: 'run sdm login --gateway HOST:PORT --fingerprint SHA256',
    });
  }
}

/** Reads config.json; returns undefined when the client has never logged in. */
export async function loadConfig(paths: SdmPaths): Promise<ClientConfig | undefined> {
  const value = await readJsonFile(paths.config);
  if (value === undefined) {
    return undefined;
  }
  return checkConfig(value, paths.config);
}

/** Reads config.json and raises NotLoggedInError when it does not exist. */
export async function requireConfig(paths: SdmPaths): Promise<ClientConfig> {
  const config = await loadConfig(paths);
  if (config === undefined) {
    throw new NotLoggedInError();
  }
  return config;
}

/**
 * config.json for the agent, which needs it for every new tunnel. The file
 * is parsed again only when it changed: `saveConfig` replaces it by rename,
 * so a new inode, size or modification time shows every change.
 */
export class WatchedConfig {
  private cached?: { stamp: string; config: ClientConfig };

  constructor(private readonly paths: SdmPaths) {}

  /** Returns the current config, or raises NotLoggedInError when there is none. */
  async require(): Promise<ClientConfig> {
    const stats = await stat(this.paths.config).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        return undefined;
      }
      throw error;
    });
    if (stats === undefined) {
      this.cached = undefined;
      throw new NotLoggedInError();
    }

    const stamp = `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    if (this.cached?.stamp !== stamp) {
      this.cached = { stamp, config: await requireConfig(this.paths) };
    }
    return this.cached.config;
  }
}

export async function saveConfig(paths: SdmPaths, config: ClientConfig): Promise<void> {
  await ensureHome(paths.home);
  await writeJsonFile(paths.config, config, PRIVATE_FILE_MODE);
}

function checkConfig(value: unknown, path: string): ClientConfig {
  const config = value as Partial<ClientConfig> | null;
  const gateway = config?.gateway;
  const valid =
    typeof gateway === 'object' &&
    gateway !== null &&
    typeof gateway.host === 'string' &&
    typeof gateway.port === 'number' &&
    (config?.fingerprint === undefined || typeof config.fingerprint === 'string') &&
    (config?.caPem === undefined || typeof config.caPem === 'string');

  if (!valid) {
    throw new SdmError('corrupt_state_file', `${path} does not contain a gateway host and port`, {
      hint: 'run sdm login again to rewrite it',
    });
  }
  return config as ClientConfig;
}
