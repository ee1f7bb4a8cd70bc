// Writers of the backend messages the node sends to a client itself, and a
// reader of the fields of a server's ErrorResponse or NoticeResponse.

import { AuthenticationType, BackendCode, LENGTH_FIELD_BYTES, MESSAGE_HEADER_BYTES, SSL_REFUSED_BYTE } from './constants.js';
import { checkNoZeroByte, checkProcessId, checkSecretKey, quoteForMessage } from './wire-values.js';
import { WireError } from './wire-error.js';

/** Field type bytes of ErrorResponse and NoticeResponse that the node writes. */
export const ErrorField = {
  Severity: 0x53, // S, localised severity
  SeverityNonLocalized: 0x56, // V, the same severity, never translated
  Code: 0x43, // C, the SQLSTATE
  Message: 0x4d, // M
  Detail: 0x44, // D
  Hint: 0x48, // H
} as const;

export interface ErrorResponseFields {
  /** ERROR ends the current statement and keeps the session. FATAL means the server closes the connection. Defaults to ERROR. */
  severity?: 'ERROR' | 'FATAL';
  /** Five-character SQLSTATE, such as '08P01'. */
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

export interface NoticeResponseFields {
  /** Defaults to NOTICE. */
  severity?: 'WARNING' | 'NOTICE' | 'INFO' | 'LOG' | 'DEBUG';
  /** Five-character SQLSTATE, such as '01000' for a warning. */
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

const SQLSTATE_PATTERN = /^[0-9A-Z]{5}$/;

/**
 * Encodes an ErrorResponse with fields S, V, C, M and, when given, D and H.
 * A zero byte inside the text fields is replaced by U+FFFD because it would
 * end the field early. Throws WireError when `code` is not an SQLSTATE.
 */
export function errorResponse(fields: ErrorResponseFields): Buffer {
  return encodeNoticeOrError(BackendCode.ErrorResponse, fields.severity ?? 'ERROR', fields);
}

/** Encodes a NoticeResponse; the fields follow the rules of errorResponse(). */
export function noticeResponse(fields: NoticeResponseFields): Buffer {
  return encodeNoticeOrError(BackendCode.NoticeResponse, fields.severity ?? 'NOTICE', fields);
}

function encodeNoticeOrError(messageCode: number, severity: string, fields: ErrorResponseFields | NoticeResponseFields): Buffer {
  if (!SQLSTATE_PATTERN.test(fields.code)) {
    throw new WireError(`SQLSTATE ${quoteForMessage(fields.code)} is invalid; expected five digits or upper-case letters, such as "08P01"`);
  }

  const parts: Array<[number, string | undefined]> = [
    [ErrorField.Severity, severity],
    [ErrorField.SeverityNonLocalized, severity],
    [ErrorField.Code, fields.code],
    [ErrorField.Message, fields.message],
    [ErrorField.Detail, fields.detail],
    [ErrorField.Hint, fields.hint],
  ];
  const body = parts
    .filter((part): part is [number, string] => part[1] !== undefined)
    .map(([type, text]) => String.fromCharCode(type) + text.replaceAll('\0', '\uFFFD') + '\0')
    .join('');

  return encodeMessage(messageCode, Buffer.from(`${body}\0`, 'utf8'));
}

/** Encodes AuthenticationOk: authentication succeeded. */
export function authenticationOk(): Buffer {
  const body = Buffer.alloc(4);
  body.writeInt32BE(AuthenticationType.Ok, 0);
  return encodeMessage(BackendCode.Authentication, body);
}

/**
 * Encodes BackendKeyData, the key a client sends back in a CancelRequest.
 * Throws WireError for a process ID outside Int32 or a key outside 4..256 bytes.
 */
export function backendKeyData(processId: number, secretKey: Buffer): Buffer {
  checkProcessId(processId);
  checkSecretKey(secretKey);

  const body = Buffer.allocUnsafe(4 + secretKey.length);
  body.writeInt32BE(processId, 0);
  secretKey.copy(body, 4);
  return encodeMessage(BackendCode.BackendKeyData, body);
}

/** Encodes ParameterStatus. Throws WireError when the name or value contains a zero byte. */
export function parameterStatus(name: string, value: string): Buffer {
  checkNoZeroByte(name, `parameter name ${quoteForMessage(name)}`);
  checkNoZeroByte(value, `value of parameter ${quoteForMessage(name)}`);
  return encodeMessage(BackendCode.ParameterStatus, Buffer.from(`${name}\0${value}\0`, 'utf8'));
}

/** Encodes ReadyForQuery with the transaction status: idle, in a transaction, or in a failed transaction. */
export function readyForQuery(status: 'I' | 'T' | 'E'): Buffer {
  if (status !== 'I' && status !== 'T' && status !== 'E') {
    throw new WireError(`transaction status ${quoteForMessage(String(status))} is invalid; expected "I", "T" or "E"`);
  }
  return encodeMessage(BackendCode.ReadyForQuery, Buffer.from(status, 'latin1'));
}

/** Returns the single byte 'N' that declines an SSLRequest or GSSENCRequest. */
export function sslRefused(): Buffer {
  return Buffer.from([SSL_REFUSED_BYTE]);
}

/**
 * Reads the fields of an ErrorResponse or NoticeResponse body (the message
 * without its 5-byte header) into a map from field type letter to value,
 * such as 'C' → '28P01'. Throws WireError when a field or the list has no
 * terminating zero byte.
 */
export function parseErrorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let offset = 0;

  while (offset < body.length && body[offset] !== 0) {
    const end = body.indexOf(0, offset + 1);
    if (end === -1) {
      throw new WireError(`error field '${String.fromCharCode(body[offset])}' at byte ${offset} has no terminating zero byte`);
    }
    fields.set(String.fromCharCode(body[offset]), body.toString('utf8', offset + 1, end));
    offset = end + 1;
  }

  if (offset >= body.length) {
    throw new WireError(`error field list of ${body.length} bytes has no terminating zero byte`);
  }
  return fields;
}

function encodeMessage(code: number, body: Buffer): Buffer {
  const message = Buffer.allocUnsafe(MESSAGE_HEADER_BYTES + body.length);
  message[0] = code;
  message.writeInt32BE(LENGTH_FIELD_BYTES + body.length, 1);
  body.copy(message, MESSAGE_HEADER_BYTES);
  return message;
}
