// Client of the node's admin API: HTTP/1.1 inside a TLS connection opened by
// connectToNode with ALPN http/1.1 and the pinned fingerprint or CA, so the
// same trust rules hold as for tunnels. HTTP errors become SdmErrors with
// the exit codes scripts rely on.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { SdmError, ValidationError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { ApiErrorBody } from '../tunnel/admin-api.js';
import { ADMIN_ALPN } from '../tunnel/hello.js';
import type { ConnectToNodeOptions } from '../tunnel/tls.js';
import { formatHostPort } from '../agent/address.js';
import { listingHint } from './error-hints.js';

/** Time one admin request may take, from connecting to the last byte of the response. */
export const API_REQUEST_TIMEOUT_MS = 30_000;

/** Maximum response body the CLI reads. NOTE: an estimate; a page of 10,000 log records with long statements may come near it. */
export const MAX_API_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface NodeTarget {
  host: string;
  port: number;
  fingerprint?: string;
  caPem?: string;
}

export type Connector = (options: ConnectToNodeOptions) => Promise<TLSSocket>;

/** The node's HTTP status and body text. */
export interface RawResponse {
  status: number;
  text: string;
}

/**
 * Function that sends a GET on the client's behalf, such as through the
 * agent. It resolves undefined when it cannot, so the client sends the request itself.
 */
export type GetRelay = (path: string, token: string) => Promise<RawResponse | undefined>;

export class NodeClient {
  readonly target: NodeTarget;
  private readonly token: string;
  private readonly connect: Connector;
  private readonly relay?: GetRelay;

  constructor(target: NodeTarget, token: string, connect: Connector = defaultConnector, relay?: GetRelay) {
    this.target = target;
    this.token = token;
    this.connect = connect;
    this.relay = relay;
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    return this.request<T>('GET', withQuery(path, query));
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }

  delete<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('DELETE', path, body);
  }

  /** Sends one request, through the relay for a GET when there is one, and returns the parsed JSON response. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const relayed = method === 'GET' && this.relay !== undefined ? await this.relay(path, this.token) : undefined;
    const response = relayed ?? (await this.send(method, path, body));
    return parseResponse<T>(response.status, response.text, method, path);
  }

  /** Sends one request on a fresh connection and returns the status and body text as they came. */
  async send(method: string, path: string, body?: unknown): Promise<RawResponse> {
    const socket = await this.connect({ ...this.target, alpn: ADMIN_ALPN, connectTimeoutMs: API_REQUEST_TIMEOUT_MS });
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');

    try {
      return await this.exchange(socket, method, path, payload);
    } finally {
      socket.destroy();
    }
  }

  private async exchange(socket: TLSSocket, method: string, path: string, payload: Buffer | undefined): Promise<RawResponse> {
    const { request: httpRequest } = await import('node:http');
    const headers: Record<string, string | number> = {
      host: formatHostPort(this.target),
      authorization: `Bearer ${this.token}`,
      accept: 'application/json',
    };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }

    return new Promise((resolve, reject) => {
      const request = httpRequest({ method, path, headers, createConnection: () => socket, timeout: API_REQUEST_TIMEOUT_MS });
      request.on('timeout', () => request.destroy(this.unreachable(`no response to ${method} ${path} within ${API_REQUEST_TIMEOUT_MS} ms (timed out)`)));
      request.on('error', (error) => reject(error instanceof SdmError ? error : this.unreachable(`${method} ${path} failed: ${error.message}`)));
      request.on('response', (response) => readBody(response).then((text) => resolve({ status: response.statusCode ?? 0, text }), reject));
      request.end(payload);
    });
  }

  private unreachable(detail: string): SdmError {
    return new SdmError('node_unreachable', `the node at ${formatHostPort(this.target)} did not respond: ${detail}`, {
      exitCode: ExitCode.UNREACHABLE,
      hint: 'check that the node is running (sdm gateway start) and reachable, then try again',
    });
  }
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_API_RESPONSE_BYTES) {
        response.destroy();
        reject(new SdmError('response_too_large', `the node's response exceeds ${MAX_API_RESPONSE_BYTES} bytes`, { hint: 'narrow the request, for example with a smaller --limit, --since or --resource' }));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function parseResponse<T>(status: number, text: string, method: string, path: string): T {
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new SdmError('bad_response', `the node responded to ${method} ${path} with HTTP ${status} and a body that is not JSON`, {
      hint: 'check that the gateway address points at an sdm node of the same version',
    });
  }

  if (status >= 200 && status < 300) {
    return body as T;
  }
  throw apiError(status, (body as ApiErrorBody | undefined)?.error, path);
}

/**
 * Maps an HTTP error status and the node's error body to an SdmError with
 * its exit code. `path` is the request path, which chooses the listing a
 * not-found or conflict hint points to.
 */
export function apiError(status: number, error: ApiErrorBody['error'] | undefined, path = ''): SdmError {
  const message = error?.message ?? `HTTP ${status}`;
  switch (status) {
    case 401:
      return new SdmError('unauthenticated', `not logged in or token rejected: ${message}`, {
        exitCode: ExitCode.AUTH,
        hint: 'run sdm login to store a valid API token; while SDM_TOKEN is set, sdm uses it instead',
      });
    case 403:
      return new SdmError('forbidden', `access denied: ${message}`, { exitCode: ExitCode.AUTH, hint: 'ask an admin of the node for access' });
    case 404:
      return new SdmError('not_found', message, { exitCode: ExitCode.NOT_FOUND, hint: listingHint(path) });
    case 400:
    case 413:
      return error?.field === undefined ? new SdmError(error?.code ?? 'bad_request', message, { exitCode: ExitCode.USAGE }) : new ValidationError(error.field, message);
    case 409:
      return new SdmError('conflict', message, { exitCode: ExitCode.CONFLICT, hint: listingHint(path) });
    default:
      return new SdmError(error?.code ?? 'node_error', `the node failed: ${message}`, { hint: 'check the node log' });
  }
}

function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const parameters = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) {
      parameters.set(key, String(value));
    }
  }
  const text = parameters.toString();
  return text === '' ? path : `${path}?${text}`;
}

async function defaultConnector(options: ConnectToNodeOptions): Promise<TLSSocket> {
  const { connectToNode } = await import('../tunnel/tls.js');
  return connectToNode(options);
}
