// An in-process node for integration tests: a fresh data directory, the
// managed-identity emulator on loopback, and a minimal local tunnel that
// uses the agent's own session code. Importing this module does not start
// anything; startTestNode() does, and close() stops it.

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

import { runSession } from '../../src/agent/session.js';
import { startEmulator, type Emulator } from '../../src/emulator/imds-emulator.js';
import { silentLogger } from '../../src/log.js';
import { dataDirPaths, type NodeConfig } from '../../src/node/data-dir.js';
import { initGateway, runGateway, type RunningGateway } from '../../src/node/gateway.js';
import { LOOPBACK_ONLY_ENV } from '../../src/node/loopback-policy.js';
import { ADMIN_ALPN } from '../../src/tunnel/hello.js';
import { connectToNode } from '../../src/tunnel/tls.js';
import { tempDir } from './postgres.js';

/** Token lifetime short enough that MSAL, which caches until 5 minutes before expiry, requests a token from the emulator every time. */
export const TEST_TOKEN_LIFETIME_SECONDS = 300;

export interface ApiAnswer {
  status: number;
  body: any;
}

export interface LocalTunnel {
  port: number;
  close(): Promise<void>;
}

export interface TestNode {
  port: number;
  fingerprint: string;
  adminToken: string;
  dataDir: string;
  emulator: Emulator;
  gateway: RunningGateway;
  api(method: string, route: string, body?: unknown, token?: string): Promise<ApiAnswer>;
  /** Listens on a loopback port and tunnels each connection to the node for `resource`. */
  tunnel(resource: string, token?: string): Promise<LocalTunnel>;
  close(): Promise<void>;
}

export interface TestNodeOptions {
  /** Called with each token the emulator issues, before it responds. */
  onIssue?(clientId: string, token: string): Promise<void> | void;
  identities?: string[];
  /** Lifetime of the tokens the emulator issues; TEST_TOKEN_LIFETIME_SECONDS when absent. */
  tokenLifetimeSeconds?: number;
  /** Settings written over the node.json that `initGateway` created. */
  config?: Partial<NodeConfig>;
}

export async function startTestNode(options: TestNodeOptions = {}): Promise<TestNode> {
  const emulator = await startEmulator({
    identities: options.identities ?? [],
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? TEST_TOKEN_LIFETIME_SECONDS,
    onIssue: options.onIssue,
  });
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = emulator.url;
  process.env[LOOPBACK_ONLY_ENV] = '1';

  const dataDir = path.join(tempDir('sdm-node-'), 'data');
  const init = await initGateway({ dataDir, listen: '127.0.0.1:0' });
  if (options.config) {
    const paths = dataDirPaths(dataDir);
    const current = JSON.parse(fs.readFileSync(paths.config, 'utf8')) as NodeConfig;
    fs.writeFileSync(paths.config, JSON.stringify({ ...current, ...options.config }));
  }
  const gateway = await runGateway({ dataDir, logger: silentLogger() });
  const port = gateway.address.port;
  const tunnels = new Set<LocalTunnel>();

  const node: TestNode = {
    port,
    fingerprint: init.fingerprint,
    adminToken: init.adminToken,
    dataDir,
    emulator,
    gateway,
    api: (method, route, body, token) => apiRequest(port, init.fingerprint, token ?? init.adminToken, method, route, body),
    tunnel: async (resource, token) => {
      const tunnel = await startLocalTunnel(port, init.fingerprint, token ?? init.adminToken, resource);
      tunnels.add(tunnel);
      return tunnel;
    },
    close: async () => {
      for (const tunnel of tunnels) {
        await tunnel.close();
      }
      await gateway.close();
      await emulator.close();
    },
  };
  return node;
}

async function apiRequest(port: number, fingerprint: string, token: string, method: string, route: string, body?: unknown): Promise<ApiAnswer> {
  const socket = await connectToNode({ host: '127.0.0.1', port, alpn: ADMIN_ALPN, fingerprint });
  const payload = body === undefined ? undefined : JSON.stringify(body);

  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        method,
        path: route,
        headers: {
          host: `127.0.0.1:${port}`,
          authorization: `Bearer ${token}`,
          connection: 'close',
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
        createConnection: () => socket,
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

function startLocalTunnel(nodePort: number, fingerprint: string, token: string, resource: string): Promise<LocalTunnel> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    void runSession(socket, resource, {
      resolveTarget: async () => ({ node: { host: '127.0.0.1', port: nodePort, fingerprint }, token }),
      connectToNode,
      logger: silentLogger(),
    });
  });

  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) {
              socket.destroy();
            }
            server.close(() => done());
          }),
      });
    });
  });
}

/** Resource fields for a server on loopback, for POST /v1/resources. */
export function resourceBody(fields: Record<string, unknown>): Record<string, unknown> {
  return { type: 'azure-postgres-mi', hostname: '127.0.0.1', tlsMode: 'verify-full', ...fields };
}
