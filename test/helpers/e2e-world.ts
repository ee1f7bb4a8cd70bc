// A world for end-to-end tests: the real `sdm` binary as child processes, a
// node started with `sdm gateway start`, the shared PostgreSQL, and the
// managed-identity emulator in the test process. Every process it starts is
// stopped by close(), by PID.

import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { startEmulator, type Emulator } from '../../src/emulator/imds-emulator.js';
import { runSdm, SDM_BIN, type SdmRun } from '../../src/demo/sdm-process.js';
import { sharedPostgres, tempDir, uniqueName, type SharedPostgres } from './postgres.js';

export interface DatabaseIdentity {
  clientId: string;
  role: string;
  database: string;
}

export interface E2eWorld {
  postgres: SharedPostgres;
  emulator: Emulator;
  nodePort: number;
  fingerprint: string;
  adminToken: string;
  home: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** Everything every sdm run printed, to check that no secret appears. */
  transcript: string[];
  sdm(args: string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<SdmRun>;
  addIdentity(): Promise<DatabaseIdentity>;
  /** Runs `issue` with each token the emulator issues for `clientId`, before it responds. */
  onToken(clientId: string, issue: (token: string) => Promise<void>): void;
  nodeOutput(): string;
  close(): Promise<void>;
}

export async function startE2eWorld(): Promise<E2eWorld> {
  const postgres = await sharedPostgres();
  const identities = new Map<string, DatabaseIdentity>();
  const issuers = new Map<string, (token: string) => Promise<void>>();
  const emulator = await startEmulator({
    identities: [],
    tokenLifetimeSeconds: 300,
    onIssue: async (clientId, token) => {
      await issuers.get(clientId.toLowerCase())?.(token);
      const identity = identities.get(clientId.toLowerCase());
      if (identity) {
        await postgres.setPassword(identity.role, token, 'password');
      }
    },
  });

  const root = tempDir('sdm-e2e-');
  const home = path.join(root, 'home');
  const dataDir = path.join(root, 'node');
  const nodePort = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    SDM_HOME: home,
    NO_COLOR: '1',
    SDM_LOOPBACK_ONLY: '1',
    AZURE_POD_IDENTITY_AUTHORITY_HOST: emulator.url,
  };
  const transcript: string[] = [];
  const sdm = async (args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) => {
    const run = await runSdm(args, { env: { ...env, ...options.env }, input: options.input });
    transcript.push(`$ sdm ${args.join(' ')}\n${run.stdout}${run.stderr}`);
    return run;
  };

  const init = await sdm(['gateway', 'init', '--data-dir', dataDir, '--listen', `127.0.0.1:${nodePort}`, '--json']);
  if (init.code !== 0) {
    throw new Error(`sdm gateway init failed: ${init.stderr}`);
  }
  const { adminToken, fingerprint } = JSON.parse(init.stdout) as { adminToken: string; fingerprint: string };
  const node = startNodeProcess(dataDir, env);
  await waitForPort(nodePort, node);

  return {
    postgres,
    emulator,
    nodePort,
    fingerprint,
    adminToken,
    home,
    dataDir,
    env,
    transcript,
    sdm,
    nodeOutput: () => node.output.join(''),
    onToken: (clientId, issue) => {
      issuers.set(clientId.toLowerCase(), issue);
      emulator.addIdentity(clientId);
    },
    addIdentity: async () => {
      const identity = { clientId: crypto.randomUUID(), role: uniqueName('mi'), database: uniqueName('db') };
      await postgres.createLoginRole(identity.role, { password: crypto.randomBytes(16).toString('hex'), auth: 'password', database: identity.database });
      identities.set(identity.clientId, identity);
      emulator.addIdentity(identity.clientId);
      return identity;
    },
    close: async () => {
      await runSdm(['disconnect', '--all'], { env, timeoutMs: 10_000 }).catch(() => undefined);
      stopAgent(home);
      await stopProcess(node.child);
      await emulator.close();
    },
  };
}

interface NodeProcess {
  child: ChildProcess;
  output: string[];
}

function startNodeProcess(dataDir: string, env: NodeJS.ProcessEnv): NodeProcess {
  const child = spawn(process.execPath, [SDM_BIN, 'gateway', 'start', '--data-dir', dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
  return { child, output };
}

/** Stops the agent that `sdm connect` started in the background, by the PID it wrote. */
export function stopAgent(home: string): void {
  const pidFile = path.join(home, 'agent.pid');
  if (!fs.existsSync(pidFile)) {
    return;
  }
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function waitForPort(port: number, node: NodeProcess): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (node.child.exitCode !== null) {
      throw new Error(`sdm gateway start exited with ${node.child.exitCode}: ${node.output.join('')}`);
    }
    if (await canConnect(port)) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the node did not listen on port ${port}: ${node.output.join('')}`);
}

export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}
