// Conversion of the flags of `sdm resource add` and `sdm resource update`
// (defined in commands/resource-flags.ts) to the JSON body of the admin API.
// The node validates every field again and fills in defaults; the CLI only
// reads the CA file.

import { readFile } from 'node:fs/promises';
import { ValidationError } from '../errors.js';

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
