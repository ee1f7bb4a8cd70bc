// A managed-identity token endpoint on loopback that speaks the IMDS
// protocol, for the demo and the tests. `@azure/identity` reaches it when
// AZURE_POD_IDENTITY_AUTHORITY_HOST contains the emulator's `url`. It never
// logs, so an issued token appears only in the HTTP response and in `onIssue`.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';

import { ValidationError } from '../errors.js';
import { createFakeToken } from './fake-token.js';
import { resolveTokenQuery, checkEnvelope, type ImdsRequest } from './imds-protocol.js';

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;
const MS_PER_SECOND = 1000;

/** Response mode of the emulator for well-formed token requests. */
export type FailureMode = 'none' | 'error' | 'hang';

export interface EmulatorOptions {
  /** Address to bind: an IPv4 address in 127.0.0.0/8 or ::1. */
  host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Client IDs of the managed identities the emulator issues tokens for. */
  identities: string[];
  /** Lifetime of each issued token in seconds; short values exercise expiry. */
  tokenLifetimeSeconds?: number;
  /**
   * Called with each new token and awaited before the response is sent, so
   * a test can set a PostgreSQL role's password to the token first. A
   * rejection turns the response into a 500.
   */
  onIssue?(clientId: string, token: string): Promise<void> | void;
}

export interface Emulator {
  /** Base URL for AZURE_POD_IDENTITY_AUTHORITY_HOST, such as `http://127.0.0.1:PORT`. */
  url: string;
  port: number;
  /** Counts tokens issued for one client ID, or for all when none is given. */
  issuedCount(clientId?: string): number;
  /** Sets the response to well-formed requests: tokens, a 500 error, or none at all. */
  setFailure(mode: FailureMode): void;
  addIdentity(clientId: string): void;
  /** Counts requests held open without a response in 'hang' mode. */
  pendingCount(): number;
  /** Stops the server and drops every open connection, including unanswered requests. */
  close(): Promise<void>;
}

interface EmulatorState {
  /** Registered client IDs, keyed in lower case so that a client ID (a GUID) matches in any letter case. */
  identities: Map<string, string>;
  issued: Map<string, number>;
  failure: FailureMode;
  hanging: Set<ServerResponse>;
  lifetimeSeconds: number;
  onIssue?: EmulatorOptions['onIssue'];
}

/** Starts an IMDS emulator on a loopback address and resolves once it listens. */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const host = options.host ?? DEFAULT_HOST;
  checkLoopbackHost(host);
  const state = createState(options);

  const server = createServer((request, response) => {
    handleRequest(request, response, state).catch((error: unknown) => {
      sendJson(response, 500, { error: 'server_error', error_description: `emulator failed: ${describe(error)}` });
    });
  });
  const port = await listen(server, host, options.port ?? 0);

  return {
    url: `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`,
    port,
    issuedCount: (clientId) => countIssued(state, clientId),
    setFailure: (mode) => {
      state.failure = mode;
    },
    addIdentity: (clientId) => addIdentity(state, clientId),
    pendingCount: () => state.hanging.size,
    close: () => closeServer(server, state),
  };
}

function createState(options: EmulatorOptions): EmulatorState {
  const lifetimeSeconds = options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds <= 0) {
    throw new ValidationError('tokenLifetimeSeconds', `tokenLifetimeSeconds must be a positive whole number of seconds; received ${lifetimeSeconds}`);
  }

  const state: EmulatorState = {
    identities: new Map(),
    issued: new Map(),
    failure: 'none',
    hanging: new Set(),
    lifetimeSeconds,
    onIssue: options.onIssue,
  };
  options.identities.forEach((clientId) => addIdentity(state, clientId));
  return state;
}

function checkLoopbackHost(host: string): void {
  const family = isIP(host);
  const loopback = (family === 4 && host.split('.')[0] === '127') || (family === 6 && host === '::1');
  if (!loopback) {
    throw new ValidationError('host', `emulator host must be a loopback address (127.0.0.0/8 or ::1); received '${host}'. Use 127.0.0.1.`);
  }
}

function addIdentity(state: EmulatorState, clientId: string): void {
  if (clientId.length === 0) {
    throw new ValidationError('identities', 'an emulated identity needs a non-empty client ID; received an empty string');
  }
  state.identities.set(clientId.toLowerCase(), clientId);
}

function countIssued(state: EmulatorState, clientId?: string): number {
  if (clientId !== undefined) {
    return state.issued.get(clientId.toLowerCase()) ?? 0;
  }
  return [...state.issued.values()].reduce((sum, count) => sum + count, 0);
}

async function handleRequest(request: IncomingMessage, response: ServerResponse, state: EmulatorState): Promise<void> {
  const imdsRequest = toImdsRequest(request);
  const envelopeError = checkEnvelope(imdsRequest);
  if (envelopeError) {
    sendJson(response, envelopeError.status, envelopeError.body);
    return;
  }

  if (state.failure === 'error') {
    sendJson(response, 500, { error: 'server_error', error_description: "The token service failed (emulator failure mode 'error')" });
    return;
  }

  if (state.failure === 'hang') {
    holdUnanswered(response, state);
    return;
  }

  const outcome = resolveTokenQuery(imdsRequest.query, state.identities);
  if (outcome.kind === 'error') {
    sendJson(response, outcome.status, outcome.body);
    return;
  }
  await issueToken(response, state, outcome.clientId, outcome.resource);
}

function toImdsRequest(request: IncomingMessage): ImdsRequest {
  const target = request.url ?? '/';
  const queryStart = target.indexOf('?');
  const rawPath = queryStart === -1 ? target : target.slice(0, queryStart);
  const metadata = request.headers.metadata;

  return {
    method: request.method ?? 'GET',
    // @azure/identity sends `//metadata/...` when AZURE_POD_IDENTITY_AUTHORITY_HOST
    // ends in a slash. NOTE: whether IMDS itself accepts a doubled slash is
    // unknown; the emulator collapses repeated slashes so such a URL works.
    path: rawPath.replace(/\/{2,}/g, '/'),
    query: new URLSearchParams(queryStart === -1 ? '' : target.slice(queryStart + 1)),
    metadataHeader: Array.isArray(metadata) ? metadata[0] : metadata,
  };
}

/** Keeps a request open without a response until close() destroys it. */
function holdUnanswered(response: ServerResponse, state: EmulatorState): void {
  state.hanging.add(response);
  response.on('close', () => state.hanging.delete(response));
}

async function issueToken(response: ServerResponse, state: EmulatorState, clientId: string, resource: string): Promise<void> {
  const issuedAtSeconds = Math.floor(Date.now() / MS_PER_SECOND);
  const expiresAtSeconds = issuedAtSeconds + state.lifetimeSeconds;
  const token = createFakeToken({ clientId, resource, issuedAtSeconds, expiresAtSeconds });

  await state.onIssue?.(clientId, token);
  const key = clientId.toLowerCase();
  state.issued.set(key, (state.issued.get(key) ?? 0) + 1);

  // IMDS sends the numbers as strings.
  sendJson(response, 200, {
    access_token: token,
    refresh_token: '',
    client_id: clientId,
    expires_in: String(state.lifetimeSeconds),
    expires_on: String(expiresAtSeconds),
    ext_expires_in: String(state.lifetimeSeconds),
    not_before: String(issuedAtSeconds),
    resource,
    token_type: 'Bearer',
  });
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  if (response.headersSent || response.destroyed) {
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function closeServer(server: Server, state: EmulatorState): Promise<void> {
  for (const response of state.hanging) {
    response.destroy();
  }
  state.hanging.clear();

  return new Promise((resolve, reject) => {
    server.close((error) => (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING' ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
