// The first packet a client sends on a PostgreSQL connection. It has no type
// byte: an Int32 length (counting itself), then an Int32 that is either a
// protocol version (StartupMessage) or a request code (SSLRequest,
// GSSENCRequest, CancelRequest), then the body.

import {
  CANCEL_REQUEST_CODE,
  GSSENC_REQUEST_CODE,
  LENGTH_FIELD_BYTES,
  MAX_CANCEL_SECRET_BYTES,
  MAX_STARTUP_PACKET_BYTES,
  MIN_CANCEL_SECRET_BYTES,
  MIN_STARTUP_PACKET_BYTES,
  PROTOCOL_MAJOR_VERSION,
  SSL_REQUEST_CODE,
} from './constants.js';
import { checkNoZeroByte, checkProcessId, checkSecretKey, quoteForMessage } from './wire-values.js';
import { WireError } from './wire-error.js';

export type StartupPacket =
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; processId: number; secretKey: Buffer }
  | { kind: 'startup'; protocolVersion: number; parameters: Map<string, string> };

export type StartupReadResult =
  | { state: 'incomplete' }
  | { state: 'invalid'; reason: string }
  | { state: 'complete'; packet: StartupPacket; length: number };

/** Offset of the body: after the length field and the version or request code. */
const BODY_OFFSET = MIN_STARTUP_PACKET_BYTES;

/** Offset of a CancelRequest's secret key, after the Int32 process ID. */
const CANCEL_SECRET_OFFSET = BODY_OFFSET + 4;

/** Request codes use major version 1234, which no protocol version will ever have. */
const REQUEST_CODE_MAJOR = 1234;

const INCOMPLETE: StartupReadResult = { state: 'incomplete' };

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads one startup packet from the start of `buffer`. Returns `incomplete`
 * until the whole packet is there, and `invalid` as soon as the length, the
 * code or the body breaks the protocol: a length outside 8..10000 bytes is
 * rejected before the rest of the packet arrives. Parameter names and values
 * must be UTF-8, and the `user` parameter must be present and not empty.
 */
export function readStartupPacket(buffer: Buffer): StartupReadResult {
  if (buffer.length < LENGTH_FIELD_BYTES) {
    return INCOMPLETE;
  }

  const length = buffer.readInt32BE(0);
  if (length < MIN_STARTUP_PACKET_BYTES || length > MAX_STARTUP_PACKET_BYTES) {
    const range = `${MIN_STARTUP_PACKET_BYTES}..${MAX_STARTUP_PACKET_BYTES}`;
    return invalid(`startup packet length ${length} is outside the allowed ${range} bytes`);
  }
  if (buffer.length < MIN_STARTUP_PACKET_BYTES) {
    return INCOMPLETE;
  }

  const code = buffer.readUInt32BE(LENGTH_FIELD_BYTES);
  const headerProblem = checkCodeAndLength(code, length);
  if (headerProblem !== undefined) {
    return invalid(headerProblem);
  }
  if (buffer.length < length) {
    return INCOMPLETE;
  }

  return parsePacket(code, buffer.subarray(0, length));
}

// Returns why the code does not fit the declared length, or undefined when
// it does, so a bad packet is rejected before its body is buffered.
function checkCodeAndLength(code: number, length: number): string | undefined {
  if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
    const name = code === SSL_REQUEST_CODE ? 'SSLRequest' : 'GSSENCRequest';
    return length === MIN_STARTUP_PACKET_BYTES ? undefined : `${name} length is ${length} bytes; expected ${MIN_STARTUP_PACKET_BYTES}`;
  }

  if (code === CANCEL_REQUEST_CODE) {
    const secretBytes = length - CANCEL_SECRET_OFFSET;
    const inRange = secretBytes >= MIN_CANCEL_SECRET_BYTES && secretBytes <= MAX_CANCEL_SECRET_BYTES;
    return inRange ? undefined : `CancelRequest secret key is ${secretBytes} bytes; expected ${MIN_CANCEL_SECRET_BYTES}..${MAX_CANCEL_SECRET_BYTES}`;
  }

  const major = code >>> 16;
  const minor = code & 0xffff;
  if (major === REQUEST_CODE_MAJOR) {
    return `unknown startup request code ${code}; expected SSLRequest, GSSENCRequest, CancelRequest or a StartupMessage`;
  }
  if (major !== PROTOCOL_MAJOR_VERSION) {
    return `unsupported frontend protocol ${major}.${minor}; expected ${PROTOCOL_MAJOR_VERSION}.x`;
  }
  return undefined;
}

function parsePacket(code: number, packet: Buffer): StartupReadResult {
  if (code === SSL_REQUEST_CODE) {
    return complete({ kind: 'ssl' }, packet.length);
  }
  if (code === GSSENC_REQUEST_CODE) {
    return complete({ kind: 'gssenc' }, packet.length);
  }
  if (code === CANCEL_REQUEST_CODE) {
    const processId = packet.readInt32BE(BODY_OFFSET);
    const secretKey = Buffer.from(packet.subarray(CANCEL_SECRET_OFFSET));
    return complete({ kind: 'cancel', processId, secretKey }, packet.length);
  }

  const parameters = readParameters(packet);
  if (typeof parameters === 'string') {
    return invalid(parameters);
  }
  return complete({ kind: 'startup', protocolVersion: code, parameters }, packet.length);
}

// Reads the name/value pairs of a StartupMessage. Returns the reason as a
// string when the list is malformed. Like PostgreSQL, it requires the
// terminating zero byte to be the last byte of the packet.
function readParameters(packet: Buffer): Map<string, string> | string {
  const parameters = new Map<string, string>();
  let offset = BODY_OFFSET;

  while (offset < packet.length && packet[offset] !== 0) {
    const pair = readPair(packet, offset);
    if (typeof pair === 'string') {
      return pair;
    }

    const [name, value, next] = pair;
    if (parameters.has(name)) {
      return `startup parameter ${quoteForMessage(name)} appears more than once`;
    }
    parameters.set(name, value);
    offset = next;
  }

  if (offset !== packet.length - 1) {
    return offset >= packet.length
      ? 'startup parameter list has no terminating zero byte'
      : `startup parameter list ends at byte ${offset} of ${packet.length}; expected the terminating zero byte as the last byte (a parameter name may not be empty)`;
  }
  return checkUser(parameters);
}

function readPair(packet: Buffer, offset: number): [string, string, number] | string {
  const nameEnd = packet.indexOf(0, offset);
  if (nameEnd === -1) {
    return `startup parameter name at byte ${offset} has no terminating zero byte`;
  }

  const valueEnd = packet.indexOf(0, nameEnd + 1);
  const name = decodeUtf8(packet.subarray(offset, nameEnd));
  if (name === undefined) {
    return `startup parameter name at byte ${offset} is not valid UTF-8`;
  }
  if (valueEnd === -1) {
    return `startup parameter ${quoteForMessage(name)} has no value`;
  }

  const value = decodeUtf8(packet.subarray(nameEnd + 1, valueEnd));
  if (value === undefined) {
    return `value of startup parameter ${quoteForMessage(name)} is not valid UTF-8`;
  }
  return [name, value, valueEnd + 1];
}

function checkUser(parameters: Map<string, string>): Map<string, string> | string {
  const user = parameters.get('user');
  if (user === undefined || user === '') {
    return 'StartupMessage has no "user" parameter; expected a non-empty user name';
  }
  return parameters;
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function invalid(reason: string): StartupReadResult {
  return { state: 'invalid', reason };
}

function complete(packet: StartupPacket, length: number): StartupReadResult {
  return { state: 'complete', packet, length };
}

/**
 * Encodes a StartupMessage. Throws WireError when the major version is not
 * 3, a name is empty, a name or value contains a zero byte, or the packet
 * would exceed the 10000 bytes PostgreSQL accepts.
 */
export function encodeStartupMessage(protocolVersion: number, parameters: Map<string, string>): Buffer {
  checkProtocolVersion(protocolVersion);
  const fields: Buffer[] = [];

  for (const [name, value] of parameters) {
    checkParameter(name, value);
    fields.push(Buffer.from(`${name}\0${value}\0`, 'utf8'));
  }

  const length = BODY_OFFSET + fields.reduce((sum, field) => sum + field.length, 0) + 1;
  if (length > MAX_STARTUP_PACKET_BYTES) {
    throw new WireError(`StartupMessage would be ${length} bytes; PostgreSQL accepts at most ${MAX_STARTUP_PACKET_BYTES}`, {
      hint: 'Shorten the startup parameters, for example "options" or "application_name".',
    });
  }

  const header = Buffer.allocUnsafe(BODY_OFFSET);
  header.writeInt32BE(length, 0);
  header.writeUInt32BE(protocolVersion, LENGTH_FIELD_BYTES);
  return Buffer.concat([header, ...fields, Buffer.alloc(1)], length);
}

function checkProtocolVersion(protocolVersion: number): void {
  const valid = Number.isInteger(protocolVersion) && protocolVersion >>> 16 === PROTOCOL_MAJOR_VERSION;
  if (!valid || protocolVersion > 0xffffffff) {
    throw new WireError(`protocol version ${protocolVersion} is invalid; expected major version ${PROTOCOL_MAJOR_VERSION} (196608 for 3.0)`);
  }
}

function checkParameter(name: string, value: string): void {
  if (name === '') {
    throw new WireError('startup parameter name is empty; expected a non-empty name');
  }
  checkNoZeroByte(name, `startup parameter name ${quoteForMessage(name)}`);
  checkNoZeroByte(value, `value of startup parameter ${quoteForMessage(name)}`);
}

/**
 * Encodes a CancelRequest. The secret key is 4 bytes under protocol 3.0 and
 * up to 256 bytes under 3.2. Throws WireError for a process ID outside the
 * signed 32-bit range or a key of another size.
 */
export function encodeCancelRequest(processId: number, secretKey: Buffer): Buffer {
  checkProcessId(processId);
  checkSecretKey(secretKey);

  const packet = Buffer.allocUnsafe(CANCEL_SECRET_OFFSET + secretKey.length);
  packet.writeInt32BE(packet.length, 0);
  packet.writeUInt32BE(CANCEL_REQUEST_CODE, LENGTH_FIELD_BYTES);
  packet.writeInt32BE(processId, BODY_OFFSET);
  secretKey.copy(packet, CANCEL_SECRET_OFFSET);
  return packet;
}
