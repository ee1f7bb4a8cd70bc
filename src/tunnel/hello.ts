// The tunnel's opening exchange. The agent sends one hello frame, the node
// replies with one reply frame, and after that the TLS stream carries the
// PostgreSQL protocol unchanged. A frame is a 4-byte big-endian length
// followed by that many bytes of UTF-8 JSON.

/** Protocol version the agent puts in its hello; the node rejects others. */
export const TUNNEL_PROTOCOL_VERSION = 1;

/** ALPN protocol name that marks a TLS connection as a tunnel. */
export const TUNNEL_ALPN = 'sdm-tunnel/1';

/** ALPN protocol name of the HTTPS admin API on the same port. */
export const ADMIN_ALPN = 'http/1.1';

/** Largest hello or reply frame either side accepts, length prefix excluded. */
export const MAX_HELLO_BYTES = 16 * 1024;

/** Time the node waits for a complete hello before closing the connection. */
export const HELLO_TIMEOUT_MS = 10_000;

export interface TunnelHello {
  version: number;
  /** The user's API token. Never logged. */
  token: string;
  /** Name of the resource the connection is for. */
  resource: string;
  /** Address of the PostgreSQL client as the agent saw it, for the connection log. */
  clientAddress?: string;
}

/** Stable codes of a rejected hello; the agent maps each to an SQLSTATE. */
export type TunnelErrorCode =
  | 'bad_hello'
  | 'unsupported_version'
  | 'unauthenticated'
  | 'forbidden'
  | 'resource_not_found'
  | 'shutting_down'
  | 'internal';

export type TunnelReply =
  | { ok: true; sessionId: string }
  | { ok: false; code: TunnelErrorCode; message: string };

const LENGTH_BYTES = 4;

/** Encodes one frame: the length prefix and the JSON text. */
export function encodeFrame(value: TunnelHello | TunnelReply): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  if (body.length > MAX_HELLO_BYTES) {
    throw new RangeError(`tunnel frame of ${body.length} bytes exceeds the maximum of ${MAX_HELLO_BYTES}`);
  }
  const frame = Buffer.allocUnsafe(LENGTH_BYTES + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, LENGTH_BYTES);
  return frame;
}

export type FrameResult =
  | { state: 'incomplete' }
  | { state: 'invalid'; reason: string }
  | { state: 'complete'; value: unknown; rest: Buffer };

/**
 * Decodes one frame from the start of `buffer`. Returns `incomplete` until
 * the whole frame is there, and `invalid` as soon as the declared length is
 * out of bounds, so a peer cannot make the reader buffer without limit.
 */
export function decodeFrame(buffer: Buffer): FrameResult {
  if (buffer.length < LENGTH_BYTES) {
    return { state: 'incomplete' };
  }
  const length = buffer.readUInt32BE(0);
  if (length === 0 || length > MAX_HELLO_BYTES) {
    return { state: 'invalid', reason: `frame length ${length} is outside 1..${MAX_HELLO_BYTES}` };
  }
  if (buffer.length < LENGTH_BYTES + length) {
    return { state: 'incomplete' };
  }

  const text = buffer.subarray(LENGTH_BYTES, LENGTH_BYTES + length).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { state: 'invalid', reason: 'frame is not valid JSON' };
  }
  return { state: 'complete', value, rest: buffer.subarray(LENGTH_BYTES + length) };
}

/** Checks the shape of a decoded hello; returns an error text or the hello. */
export function parseHello(value: unknown): TunnelHello | string {
  if (typeof value !== 'object' || value === null) {
    return 'hello must be a JSON object';
  }
  const hello = value as Record<string, unknown>;
  if (typeof hello.version !== 'number') {
    return 'hello.version must be a number';
  }
  if (typeof hello.token !== 'string' || hello.token.length === 0) {
    return 'hello.token must be a non-empty string';
  }
  if (typeof hello.resource !== 'string' || hello.resource.length === 0) {
    return 'hello.resource must be a non-empty string';
  }
  if (hello.clientAddress !== undefined && typeof hello.clientAddress !== 'string') {
    return 'hello.clientAddress must be a string';
  }
  return {
    version: hello.version,
    token: hello.token,
    resource: hello.resource,
    clientAddress: hello.clientAddress as string | undefined,
  };
}

/** Checks the shape of a decoded reply; returns an error text or the reply. */
export function parseReply(value: unknown): TunnelReply | string {
  if (typeof value !== 'object' || value === null) {
    return 'reply must be a JSON object';
  }
  const reply = value as Record<string, unknown>;
  if (reply.ok === true && typeof reply.sessionId === 'string') {
    return { ok: true, sessionId: reply.sessionId };
  }
  if (reply.ok === false && typeof reply.code === 'string' && typeof reply.message === 'string') {
    return { ok: false, code: reply.code as TunnelErrorCode, message: reply.message };
  }
  return 'reply has neither ok:true with sessionId nor ok:false with code and message';
}
