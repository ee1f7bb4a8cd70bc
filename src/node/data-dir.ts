import fs from 'node:fs/promises';
import path from 'node:path';

import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

export const DEFAULT_LISTEN = '127.0.0.1:8443';

/** Settings of one node, kept as `node.json` in its data directory. */
export interface NodeConfig {
  listen: string;
  /** Whether statements go to the query log. Connections are always logged. */
  auditQueries: boolean;
  /** Whether values bound to extended-protocol statements are kept in the query log; off by default, since they may hold personal data. */
  auditParameters: boolean;
  logRetentionDays: number;
  healthIntervalSeconds: number;
  /** Time open sessions get to finish on shutdown before they are ended. */
  shutdownGraceSeconds: number;
  /** Names of external secret stores this node is configured with. */
  secretStores: string[];
}

export const DEFAULT_CONFIG: Omit<NodeConfig, 'listen'> = {
  auditQueries: true,
  auditParameters: false,
  logRetentionDays: 90,
  healthIntervalSeconds: 60,
  shutdownGraceSeconds: 30,
  secretStores: [],
};

export interface DataDirPaths {
  root: string;
  config: string;
  certificate: string;
  privateKey: string;
  store: string;
}

export function dataDirPaths(root: string): DataDirPaths {
  const absolute = path.resolve(root);
  return {
    root: absolute,
    config: path.join(absolute, 'node.json'),
    certificate: path.join(absolute, 'node-cert.pem'),
    privateKey: path.join(absolute, 'node-key.pem'),
    store: path.join(absolute, 'store.db'),
  };
}

export async function readNodeConfig(paths: DataDirPaths): Promise<NodeConfig> {
  let text: string;
  try {
    text = await fs.readFile(paths.config, 'utf8');
  } catch {
    throw new SdmError('not_initialized', `${paths.root} is not an initialised node data directory (no node.json)`, {
      exitCode: ExitCode.NOT_FOUND,
      hint: `run \`sdm gateway init --data-dir ${paths.root}\` first`,
    });
  }
  return parseNodeConfig(text, paths.config);
}

function parseNodeConfig(text: string, file: string): NodeConfig {
  let raw: Partial<NodeConfig>;
  try {
    raw = JSON.parse(text) as Partial<NodeConfig>;
  } catch {
    throw new SdmError('invalid_config', `${file} is not valid JSON`, { exitCode: ExitCode.USAGE, hint: 'fix the file or restore it from a backup' });
  }
  const config = { ...DEFAULT_CONFIG, listen: DEFAULT_LISTEN, ...raw };
  parseListen(config.listen);
  return config;
}

/** Splits `HOST:PORT` (IPv6 hosts in brackets) and checks the port. */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new SdmError('invalid_value', `invalid listen address "${listen}": expected HOST:PORT such as 127.0.0.1:8443 or [::1]:8443`, {
      exitCode: ExitCode.USAGE,
    });
  }
  return { host: match[1] ?? match[2], port };
}

/** Returns true when the directory already contains a node's settings. */
export async function isInitialised(paths: DataDirPaths): Promise<boolean> {
  try {
    await fs.access(paths.config);
    return true;
  } catch {
    return false;
  }
}
