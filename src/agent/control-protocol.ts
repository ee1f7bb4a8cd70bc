// The agent's control protocol over its Unix socket (mode 0600): the client
// writes one JSON request on one line, the agent writes one JSON response on
// one line, then the client closes the connection.

import { SdmError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import { isLoopbackAddress } from './address.js';
import { isPortOverride, MAX_PORT_OVERRIDE, MIN_PORT_OVERRIDE } from './port-override.js';

/** Maximum length of a request line the agent reads, newline excluded. */
export const MAX_CONTROL_LINE_BYTES = 256 * 1024;

/** Maximum length of a response line the CLI reads, newline excluded. It is larger than a request line's because a node-get result can be a long resource list. */
export const MAX_CONTROL_RESPONSE_BYTES = 16 * 1024 * 1024;

/** The admin API paths the agent sends a node-get for: the reads of status, connect and completion. */
export const NODE_GET_PATHS: readonly string[] = ['/v1/resources'];

/** C0 and C1 control characters and DEL, which a resource name never contains. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

export interface ConnectRequest {
  op: 'connect';
  resource: {
    name: string;
    bindIp: string;
    portOverride: number | null;
    database?: string;
  };
  /** The user's API token; the agent keeps it in memory only. */
  token?: string;
}

export interface DisconnectRequest {
  op: 'disconnect';
  names?: string[];
  all?: boolean;
  /** Also drop the token the agent keeps in memory, as `sdm logout` requests. */
  forgetToken?: boolean;
  /** Also forget the remembered ports, so the next connect picks new ones. */
  forgetPorts?: boolean;
}

/**
 * A GET of the node's admin API that the agent sends for the CLI, over the
 * TLS setup it has already loaded, with the CLI's token. `sdm status` and
 * `sdm connect` then load no TLS or HTTP code of their own.
 */
export interface NodeGetRequest {
  op: 'node-get';
  /** Admin API path, one of NODE_GET_PATHS. */
  path: string;
  /** The user's API token, used for this request only. */
  token: string;
}

/** The node's HTTP status and body text, which the CLI reads as it reads a response of its own. */
export interface NodeGetResult {
  status: number;
  text: string;
}

/** Error code the agent sends in place of a response over MAX_CONTROL_RESPONSE_BYTES. After a node-get, the CLI then sends the request to the node itself. */
export const CONTROL_RESPONSE_TOO_LARGE = 'response_too_large';

export type ControlRequest =
  | ConnectRequest
  | DisconnectRequest
  | NodeGetRequest
  | { op: 'status' }
  | { op: 'shutdown' }
  | { op: 'ping' };

export interface ListenerInfo {
  name: string;
  host: string;
  port: number;
  database?: string;
  activeConnections: number;
}

export interface ControlErrorBody {
  code: string;
  message: string;
  hint?: string;
  exitCode: ExitCodeValue;
}

export type ControlResponse = { ok: true; result: unknown } | { ok: false; error: ControlErrorBody };

export interface PingResult {
  pid: number;
}

export interface ConnectResult {
  listener: ListenerInfo;
}

export interface DisconnectResult {
  disconnected: string[];
}

export interface StatusResult {
  listeners: ListenerInfo[];
}

/** Converts any error into a failed response; only SdmError messages are passed on verbatim. */
export function errorToResponse(error: unknown): ControlResponse {
  if (error instanceof SdmError) {
    return { ok: false, error: { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, error: { code: 'agent_failed', message: `the agent failed: ${message}`, exitCode: ExitCode.FAILURE } };
}

/** Checks a decoded request line; returns the request or a text saying what is wrong. */
export function parseControlRequest(value: unknown): ControlRequest | string {
  const request = value as Record<string, unknown> | null;
  if (typeof request !== 'object' || request === null || typeof request.op !== 'string') {
    return 'request must be a JSON object with a string "op"';
  }

  switch (request.op) {
    case 'ping':
    case 'status':
    case 'shutdown':
      return { op: request.op };
    case 'connect':
      return parseConnect(request);
    case 'disconnect':
      return parseDisconnect(request);
    case 'node-get':
      return parseNodeGet(request);
    default:
      return `unknown op "${request.op}": expected ping, status, connect, disconnect, node-get or shutdown`;
  }
}

function parseNodeGet(request: Record<string, unknown>): NodeGetRequest | string {
  if (typeof request.path !== 'string' || !NODE_GET_PATHS.includes(request.path)) {
    return `node-get.path must be one of ${NODE_GET_PATHS.join(', ')}`;
  }
  if (typeof request.token !== 'string' || request.token.length === 0) {
    return 'node-get.token must be a non-empty string';
  }
  return { op: 'node-get', path: request.path, token: request.token };
}

function parseConnect(request: Record<string, unknown>): ConnectRequest | string {
  const resource = request.resource as Record<string, unknown> | null;
  if (typeof resource !== 'object' || resource === null) {
    return 'connect.resource must be an object';
  }
  if (typeof resource.name !== 'string' || resource.name.length === 0 || CONTROL_CHARACTER.test(resource.name)) {
    return 'connect.resource.name must be a non-empty string without control characters';
  }
  if (typeof resource.bindIp !== 'string' || !isLoopbackAddress(resource.bindIp)) {
    return `connect.resource.bindIp ${JSON.stringify(resource.bindIp)} is not a loopback address: expected one in 127.0.0.0/8, or ::1`;
  }
  if (resource.portOverride !== null && !isPortOverride(resource.portOverride)) {
    return `connect.resource.portOverride ${JSON.stringify(resource.portOverride)} is out of range: expected null or an integer from ${MIN_PORT_OVERRIDE} to ${MAX_PORT_OVERRIDE}`;
  }
  if (resource.database !== undefined && typeof resource.database !== 'string') {
    return 'connect.resource.database must be a string';
  }
  if (request.token !== undefined && typeof request.token !== 'string') {
    return 'connect.token must be a string';
  }

  return {
    op: 'connect',
    resource: {
      name: resource.name,
      bindIp: resource.bindIp,
      portOverride: resource.portOverride as number | null,
      database: resource.database as string | undefined,
    },
    token: request.token as string | undefined,
  };
}

function parseDisconnect(request: Record<string, unknown>): DisconnectRequest | string {
  const names = request.names;
  if (names !== undefined && (!Array.isArray(names) || !names.every((name) => typeof name === 'string'))) {
    return 'disconnect.names must be an array of strings';
  }
  return {
    op: 'disconnect',
    names: names as string[] | undefined,
    all: request.all === true,
    forgetToken: request.forgetToken === true,
    forgetPorts: request.forgetPorts === true,
  };
}
