import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createLogger } from '../log.js';
import { startEmulator } from '../emulator/imds-emulator.js';
import { launcherPath } from '../cli/package-root.js';
import { LOOPBACK_ONLY_ENV } from '../node/loopback-policy.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { runSdm, type SdmRun } from './sdm-process.js';

export const DEMO_RESOURCE = 'azure-pg-mi-prod';
export const DEMO_DATABASE = 'appdb';
export const DEMO_ROLE = 'sdm_demo_identity';
export const DEMO_QUERY = 'SELECT version();';

export interface DemoOptions {
  once: boolean;
  out: NodeJS.WritableStream;
}

type Cleanup = () => Promise<void> | void;

/**
 * Runs the whole path on loopback with nothing but npm packages: a real
 * PostgreSQL set up as Azure sets up its servers (TLS, cleartext password over
 * TLS), the managed-identity emulator, a fresh node, a login, the resource
 * `azure-pg-mi-prod`, `sdm connect`, and `SELECT version();` through the
 * tunnel. Everything it starts is stopped, and its temporary folder removed,
 * on exit.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const cleanups: Cleanup[] = [];
  const say = (line = '') => options.out.write(line + '\n');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sdm-demo-'));
  cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));

  const stop = async () => {
    for (const cleanup of cleanups.reverse()) {
      await Promise.resolve(cleanup()).catch(() => undefined);
    }
    cleanups.length = 0;
  };

  try {
    await runSteps(root, cleanups, say, options);
    if (!options.once) {
      await waitForSignal();
      say('\nStopping…');
    }
    return 0;
  } finally {
    await stop();
  }
}

async function runSteps(root: string, cleanups: Cleanup[], say: (line?: string) => void, options: DemoOptions): Promise<void> {
  const clientId = crypto.randomUUID();

  say('1. Starting PostgreSQL (embedded, TLS on, cleartext password over TLS as on Azure)…');
  const postgres = await startEmbeddedPostgres({});
  cleanups.push(() => postgres.stop());
  await postgres.adminQuery(`CREATE DATABASE ${DEMO_DATABASE}`);
  await postgres.createLoginRole(DEMO_ROLE, { password: crypto.randomBytes(24).toString('base64url'), auth: 'password', database: DEMO_DATABASE });
  const caFile = path.join(root, 'postgres-ca.pem');
  fs.writeFileSync(caFile, postgres.caPem);
  say(`   PostgreSQL on ${postgres.host}:${postgres.port}, role ${DEMO_ROLE} for the managed identity`);

  say('2. Starting the managed-identity emulator…');
  const emulator = await startEmulator({
    identities: [clientId],
    onIssue: (_clientId, token) => postgres.setPassword(DEMO_ROLE, token, 'password'),
  });
  cleanups.push(() => emulator.close());
  say(`   Token endpoint on ${emulator.url}, identity ${clientId}`);

  const home = path.join(root, 'home');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SDM_HOME: home,
    SDM_TOKEN: undefined,
    [LOOPBACK_ONLY_ENV]: '1',
    AZURE_POD_IDENTITY_AUTHORITY_HOST: emulator.url,
  };
  process.env[LOOPBACK_ONLY_ENV] = '1';
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = emulator.url;

  say('3. Initialising and starting a node…');
  const node = await startNode(path.join(root, 'node'), cleanups);
  say(`   Node on 127.0.0.1:${node.port}, fingerprint ${node.fingerprint}`);

  say('4. Logging in and adding the resource…');
  await sdm(['login', '--gateway', `127.0.0.1:${node.port}`, '--fingerprint', node.fingerprint, '--token-stdin'], env, node.adminToken);
  cleanups.push(() => stopAgent(env));
  await sdm(
    [
      'resource', 'add', 'azure-postgres-mi', DEMO_RESOURCE,
      '--hostname', postgres.host,
      '--port', String(postgres.port),
      '--database', DEMO_DATABASE,
      '--username', DEMO_ROLE,
      '--client-id', clientId,
      '--restrict-database',
      '--tls-mode', 'verify-full',
      '--ca-file', caFile,
      '--tags', 'env=prod,team=data',
    ],
    env,
  );

  say(`5. sdm connect ${DEMO_RESOURCE}`);
  const connection = JSON.parse((await sdm(['connect', DEMO_RESOURCE, '--json'], env)).stdout) as ConnectionInfo | ConnectionInfo[];
  const info = Array.isArray(connection) ? connection[0] : connection;
  say(`   ${DEMO_RESOURCE} listens on ${info.env.PGHOST}:${info.env.PGPORT}`);

  say(`6. ${DEMO_QUERY} through the tunnel:`);
  say(indent(await runQuery(info.env)));

  say('7. sdm status');
  say(indent((await sdm(['status'], env)).stdout));
  await sleep(AUDIT_SETTLE_MS);
  say(`8. sdm logs queries --resource ${DEMO_RESOURCE}`);
  say(indent((await sdm(['logs', 'queries', '--resource', DEMO_RESOURCE], env)).stdout));

  if (!options.once) {
    say('Try it in another terminal:');
    say(`   export SDM_HOME=${home}`);
    say(`   alias sdm='${launcherPath()}'`);
    say(`   eval "$(sdm connect ${DEMO_RESOURCE} --env)"`);
    say('   psql "$PGDATABASE"');
    say('Press Ctrl-C to stop the demo and remove everything it started.');
  }
}

/** Time for the node's audit writer to flush the statement before the log is read. */
const AUDIT_SETTLE_MS = 600;

interface ConnectionInfo {
  env: Record<string, string>;
}

async function startNode(dataDir: string, cleanups: Cleanup[]) {
  const { initGateway, runGateway } = await import('../node/gateway.js');
  const init = await initGateway({ dataDir, listen: '127.0.0.1:0' });
  const logFile = fs.createWriteStream(path.join(path.dirname(dataDir), 'node.log'));
  const gateway = await runGateway({ dataDir, logger: createLogger({ name: 'node', destination: logFile }) });
  cleanups.push(async () => {
    await gateway.close();
    logFile.end();
  });
  return { port: gateway.address.port, fingerprint: gateway.fingerprint, adminToken: init.adminToken };
}

async function sdm(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<SdmRun> {
  const run = await runSdm(args, { env, input });
  if (run.code !== 0) {
    throw new Error(`sdm ${args.slice(0, 2).join(' ')} exited with ${run.code}: ${run.stderr.trim()}`);
  }
  return run;
}

/** Stops the agent that `sdm connect` started in the background, through its control socket. */
async function stopAgent(env: NodeJS.ProcessEnv): Promise<void> {
  await runSdm(['disconnect', '--all'], { env, timeoutMs: 10_000 });
  const { AgentClient } = await import('../agent/control-client.js');
  const { sdmPaths } = await import('../agent/home.js');
  await new AgentClient(sdmPaths(env.SDM_HOME!).socket).shutdown();
}

/**
 * Runs the query with psql, asynchronously because the node serving the
 * tunnel lives in this process, or with the `pg` driver when psql is absent.
 */
async function runQuery(pgEnv: Record<string, string>): Promise<string> {
  const psql = await runPsql(pgEnv);
  if (psql !== undefined) {
    return `(psql) ${psql}`;
  }

  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: pgEnv.PGHOST, port: Number(pgEnv.PGPORT), database: pgEnv.PGDATABASE, user: pgEnv.PGUSER });
  await client.connect();
  try {
    const result = await client.query<{ version: string }>(DEMO_QUERY);
    return `(pg driver; psql is not installed) ${result.rows[0].version}`;
  } finally {
    await client.end();
  }
}

function runPsql(pgEnv: Record<string, string>): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    execFile('psql', ['-X', '-A', '-t', '-c', DEMO_QUERY], { env: { ...process.env, ...pgEnv }, encoding: 'utf8' }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
        resolve(undefined);
      } else if (error) {
        reject(new Error(`psql failed: ${stderr.trim() || error.message}`));
      } else {
        resolve(stdout.trim());
      }
    });
  });
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `   ${line}`)
    .join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
