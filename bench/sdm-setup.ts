// The sdm side of the benchmark: the managed-identity emulator in this
// process, and per variant (audit logging on, audit logging off) one node
// and one agent in child processes, each with its own data directory and
// SDM_HOME. The agent listens on a loopback port for the benchmark resource.

import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { AgentClient } from '../src/agent/control-client.js';
import { saveConfig } from '../src/agent/client-config.js';
import { sdmPaths } from '../src/agent/home.js';
import { NodeClient } from '../src/cli/node-client.js';
import { startEmulator, type Emulator } from '../src/emulator/imds-emulator.js';
import { initGateway } from '../src/node/gateway.js';
import { LOOPBACK_ONLY_ENV } from '../src/node/loopback-policy.js';
import { spawnReady, type ReadyChild } from './child-process.js';
import { BENCH_DATABASE, TOKEN_ROLES, type BenchPostgres } from './postgres-setup.js';

export const BENCH_RESOURCE = 'bench-pg';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));

export interface SdmVariant {
  label: string;
  node: ReadyChild<{ port: number; fingerprint: string }>;
  agent: ReadyChild<{ socketPath: string }>;
  /** Environment for the `sdm` CLI and the agent: SDM_HOME, SDM_TOKEN and the loopback settings. */
  env: NodeJS.ProcessEnv;
  listenerPort: number;
}

export interface SdmSetup {
  emulator: Emulator;
  variants: SdmVariant[];
}

/** Starts the emulator, then one node and agent per entry of `auditQueries` (at most one true and one false). Calls `track` with each stop function as soon as it exists. */
export async function startSdm(postgres: BenchPostgres, root: string, auditQueries: boolean[], track: (stop: () => Promise<void>) => void): Promise<SdmSetup> {
  const roleOf = new Map<string, string>(auditQueries.map((audit) => [randomUUID(), TOKEN_ROLES[audit ? 0 : 1]]));
  const emulator = await startEmulator({
    identities: [...roleOf.keys()],
    onIssue: (clientId, token) => postgres.server.setPassword(roleOf.get(clientId.toLowerCase())!, token, 'password'),
  });
  track(() => emulator.close());

  const variants: SdmVariant[] = [];
  for (const [clientId, role] of roleOf) {
    const audit = role === TOKEN_ROLES[0];
    const label = audit ? 'sdm' : 'sdm (audit off)';
    const dir = path.join(root, audit ? 'sdm-audit-on' : 'sdm-audit-off');
    variants.push(await startVariant({ label, dir, auditQueries: audit, clientId, role, emulator, postgres, track }));
  }
  return { emulator, variants };
}

interface VariantOptions {
  label: string;
  dir: string;
  auditQueries: boolean;
  clientId: string;
  role: string;
  emulator: Emulator;
  postgres: BenchPostgres;
  track: (stop: () => Promise<void>) => void;
}

async function startVariant(options: VariantOptions): Promise<SdmVariant> {
  const dataDir = path.join(options.dir, 'node');
  const init = await initGateway({ dataDir, listen: '127.0.0.1:0' });
  await setAuditQueries(dataDir, options.auditQueries);

  const baseEnv = { ...process.env, [LOOPBACK_ONLY_ENV]: '1', AZURE_POD_IDENTITY_AUTHORITY_HOST: options.emulator.url };
  const node = await spawnReady<{ port: number; fingerprint: string }>(`${options.label} node`, process.execPath, [...profileFlags(), path.join(BENCH_DIR, 'node-main.js'), dataDir], { env: baseEnv });
  options.track(node.stop);

  const target = { host: '127.0.0.1', port: node.ready.port, fingerprint: node.ready.fingerprint };
  await addResource(new NodeClient(target, init.adminToken), options.postgres, options.clientId, options.role);

  const home = path.join(options.dir, 'home');
  await saveConfig(sdmPaths(home), { gateway: { host: target.host, port: target.port }, fingerprint: target.fingerprint });
  const env = { ...baseEnv, SDM_HOME: home, SDM_TOKEN: init.adminToken };
  const agent = await spawnReady<{ socketPath: string }>(`${options.label} agent`, process.execPath, [...profileFlags(), path.join(BENCH_DIR, 'agent-main.js')], { env });
  options.track(agent.stop);

  const connected = await new AgentClient(agent.ready.socketPath).connect({
    resource: { name: BENCH_RESOURCE, bindIp: '127.0.0.1', portOverride: null, database: BENCH_DATABASE },
  });
  return { label: options.label, node, agent, env, listenerPort: connected.listener.port };
}

async function setAuditQueries(dataDir: string, auditQueries: boolean): Promise<void> {
  const file = path.join(dataDir, 'node.json');
  const config = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  await writeFile(file, JSON.stringify({ ...config, auditQueries }, null, 2) + '\n', { mode: 0o600 });
}

async function addResource(client: NodeClient, postgres: BenchPostgres, clientId: string, role: string): Promise<void> {
  await client.post('/v1/resources', {
    type: 'azure-postgres-mi',
    name: BENCH_RESOURCE,
    hostname: postgres.server.host,
    port: postgres.server.port,
    database: BENCH_DATABASE,
    username: role,
    clientId,
    tlsMode: 'verify-full',
    caPem: postgres.server.caPem,
  });
}

/**
 * Node.js flags for the node and agent processes, from SDM_BENCH_PROFILE_FLAGS
 * (space-separated), for example `--cpu-prof --cpu-prof-dir=/tmp/prof`. Node.js
 * refuses --cpu-prof in NODE_OPTIONS, so profiling needs this way in.
 */
function profileFlags(): string[] {
  return (process.env.SDM_BENCH_PROFILE_FLAGS ?? '').split(' ').filter((flag) => flag.length > 0);
}
