// Checks and formatting shared by the readers and writers of this folder.

import { MAX_CANCEL_SECRET_BYTES, MIN_CANCEL_SECRET_BYTES } from './constants.js';
import { WireError } from './wire-error.js';

/** Maximum length of peer-supplied text quoted in an error message, in characters. */
const MAX_QUOTED_CHARS = 64;

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/**
 * Quotes text received from a peer for an error message: JSON escaping makes
 * control characters visible, and text longer than 64 characters is cut.
 */
export function quoteForMessage(text: string): string {
  const quoted = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}…` : text;
  return JSON.stringify(quoted);
}

/** Throws WireError unless `processId` fits the protocol's signed Int32 field. */
export function checkProcessId(processId: number): void {
  if (!Number.isInteger(processId) || processId < INT32_MIN || processId > INT32_MAX) {
    throw new WireError(`process ID ${processId} is invalid; expected an integer in ${INT32_MIN}..${INT32_MAX}`);
  }
}

/** Throws WireError unless a cancel secret key is 4..256 bytes long. */
export function checkSecretKey(secretKey: Buffer): void {
  if (secretKey.length < MIN_CANCEL_SECRET_BYTES || secretKey.length > MAX_CANCEL_SECRET_BYTES) {
    throw new WireError(
      `cancel secret key is ${secretKey.length} bytes; expected ${MIN_CANCEL_SECRET_BYTES}..${MAX_CANCEL_SECRET_BYTES}`,
    );
  }
}

/** Throws WireError when text meant for a zero-terminated string field contains a zero byte. */
export function checkNoZeroByte(text: string, field: string): void {
  if (text.includes('\0')) {
    throw new WireError(`${field} contains a zero byte, which the protocol uses as a string terminator`);
  }
}
