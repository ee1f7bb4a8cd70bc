// A stand-in for the node's HTTPS admin API: a TLS server with a generated
// certificate and ALPN http/1.1. It responds from a table of routes and
// records every request, so CLI tests check both what was sent and what
// the user reads.

import http from 'node:http';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { generateSelfSignedCertificate } from '../../src/tunnel/certificates.js';
import { fingerprintOf } from '../../src/tunnel/fingerprint.js';
import type { ResourceView } from '../../src/tunnel/admin-api.js';
import { resourceInput } from '../store/temp-store.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  authorization: string | undefined;
}

export interface RouteResponse {
  status?: number;
  body: unknown;
}

export type RouteHandler = (request: RecordedRequest) => RouteResponse;

export interface FakeAdminNode {
  host: string;
  port: number;
  fingerprint: string;
  /** The only token the node accepts. */
  token: string;
  requests: RecordedRequest[];
  /** Routes keyed by `METHOD /path`; the test adds or replaces entries. */
  routes: Map<string, RouteHandler>;
  close(): Promise<void>;
}

export const ADMIN_TOKEN = 'tok-admin-1b2c3d4e5f60718293a4b5c6d7e8f901';

export function resourceView(name: string, overrides: Partial<ResourceView> = {}): ResourceView {
  const input = resourceInput({
    name,
    hostname: `${name}.postgres.database.azure.com`,
    database: 'app',
    username: 'app_identity',
    clientId: '00000000-0000-0000-0000-000000000001',
  });
  return {
    ...input,
    type: 'azure-postgres-mi',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    health: { resource: name, state: 'healthy', checkedAt: '2025-01-01T00:00:00.000Z', durationMs: 12, error: null },
    ...overrides,
  };
}

export async function startFakeAdminNode(): Promise<FakeAdminNode> {
  const { certPem, keyPem } = await generateSelfSignedCertificate({ commonName: 'fake admin node', altNames: ['127.0.0.1'] });
  const node: FakeAdminNode = {
    host: '127.0.0.1',
    port: 0,
    fingerprint: fingerprintOf(certPem),
    token: ADMIN_TOKEN,
    requests: [],
    routes: new Map([['GET /v1/whoami', () => ({ body: { email: 'admin@example.com', admin: true } })]]),
    close: async () => undefined,
  };

  const api = http.createServer((request, response) => void respond(node, request, response));
  const server = tls.createServer({ cert: certPem, key: keyPem, ALPNProtocols: ['http/1.1'] }, (socket) => api.emit('connection', socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  node.port = (server.address() as AddressInfo).port;
  node.close = () => new Promise((resolve) => {
    api.closeAllConnections();
    server.close(() => resolve());
  });
  return node;
}

async function respond(node: FakeAdminNode, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const url = new URL(request.url ?? '/', 'https://node');
  const recorded: RecordedRequest = {
    method: request.method ?? 'GET',
    path: decodeURIComponent(url.pathname),
    query: url.searchParams,
    body: text === '' ? undefined : JSON.parse(text),
    authorization: request.headers.authorization,
  };
  node.requests.push(recorded);

  const route = node.routes.get(`${recorded.method} ${recorded.path}`);
  const result: RouteResponse =
    recorded.authorization !== `Bearer ${node.token}`
      ? { status: 401, body: { error: { code: 'unauthenticated', message: 'API token not accepted: it is wrong, rotated or revoked' } } }
      : route === undefined
        ? { status: 404, body: { error: { code: 'not_found', message: `no route ${recorded.method} ${recorded.path}` } } }
        : route(recorded);

  const body = JSON.stringify(result.body);
  response.writeHead(result.status ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
