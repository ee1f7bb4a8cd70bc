// Checks on single fields of a resource. Each returns the accepted value or
// throws ValidationError naming the field, quoting the value given and
// saying what is allowed.

import { X509Certificate } from 'node:crypto';
import { isIP, isIPv4 } from 'node:net';
import { ValidationError } from '../errors.js';
import { quoteValue } from './value-text.js';

export const MAX_NAME_CHARS = 255;
/** PostgreSQL's NAMEDATALEN (64) less the terminating NUL byte. */
export const MAX_DATABASE_BYTES = 63;
export const MAX_USERNAME_BYTES = 128;
export const MAX_HOSTNAME_CHARS = 253;
export const MAX_SECRET_PATH_CHARS = 1024;
export const MAX_CA_PEM_CHARS = 512 * 1024;
export const MAX_CLUSTER_NAME_CHARS = 64;

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
const NAME_FORBIDDEN = /['"`<>]/;
const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SECRET_PATH = /^([A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*)\?key=[A-Za-z0-9._-]+$/;
const CLUSTER_NAME = /^[A-Za-z0-9_.-]+$/;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function invalid(field: string, value: unknown, expected: string): ValidationError {
  return new ValidationError(field, `invalid ${field} ${quoteValue(value)}: expected ${expected}`);
}

export function missing(field: string, expected: string): ValidationError {
  return new ValidationError(field, `missing ${field}: expected ${expected}`);
}

/** Checks that a required string is present; absent, null and the empty string count as missing. */
export function requireString(field: string, value: unknown, expected: string): string {
  if (value === undefined || value === null || value === '') {
    throw missing(field, expected);
  }
  if (typeof value !== 'string') {
    throw invalid(field, value, expected);
  }
  return value;
}

export function checkName(value: unknown): string {
  const expected = `1 to ${MAX_NAME_CHARS} characters without quotes, angle brackets, slashes, control characters or surrounding spaces, and not . or ..`;
  const name = requireString('name', value, expected);

  // A slash, `.` or `..` would change the admin API path the name is placed in.
  const pathUnsafe = name.includes('/') || name === '.' || name === '..';
  const bad = [...name].length > MAX_NAME_CHARS || NAME_FORBIDDEN.test(name) || CONTROL_CHARACTERS.test(name) || name.trim() !== name || pathUnsafe;
  if (bad) {
    throw invalid('name', name, expected);
  }
  return name;
}

/** Checks for an IPv4 or IPv6 address, or a DNS name of letters, digits and hyphens whose last label is not all digits. */
export function checkHostname(value: unknown): string {
  const expected = 'a DNS name such as mydb.postgres.database.azure.com, or an IP address';
  const hostname = requireString('hostname', value, expected);
  if (isIP(hostname) !== 0) {
    return hostname;
  }

  const labels = hostname.split('.');
  const valid = hostname.length <= MAX_HOSTNAME_CHARS && labels.every((label) => DNS_LABEL.test(label)) && !/^\d+$/.test(labels[labels.length - 1]);
  if (!valid) {
    throw invalid('hostname', hostname, expected);
  }
  return hostname;
}

/** Checks an integer range; the value may be a number or decimal digits, because the CLI passes option values as text. */
export function checkInteger(field: string, value: unknown, min: number, max: number): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw invalid(field, value, `an integer from ${min} to ${max}`);
  }
  return number;
}

export function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw invalid(field, value, 'true or false');
  }
  return value;
}

/** Checks that a string has 1 to `maxBytes` UTF-8 bytes and no control characters. */
export function checkBoundedText(field: string, value: unknown, maxBytes: number): string {
  const expected = `1 to ${maxBytes} bytes of UTF-8 text without control characters`;
  const text = requireString(field, value, expected);

  if (Buffer.byteLength(text, 'utf8') > maxBytes || CONTROL_CHARACTERS.test(text)) {
    throw invalid(field, text, expected);
  }
  return text;
}

export function checkClientId(value: unknown): string {
  const expected = 'the managed identity\'s client ID, a GUID like 00000000-0000-0000-0000-000000000000';
  const clientId = requireString('clientId', value, expected);

  if (!GUID.test(clientId)) {
    throw invalid('clientId', clientId, expected);
  }
  return clientId;
}

/** Checks a credential path in an external secret store, `path/to/credential?key=name`, and returns it unchanged. */
export function checkSecretPath(field: string, value: unknown, store: string): string {
  const expected = `a path in secret store "${store}" like path/to/credential?key=name (segments of letters, digits, ".", "_" or "-")`;
  const path = requireString(field, value, expected);

  const match = SECRET_PATH.exec(path);
  const dotSegment = match?.[1].split('/').some((segment) => segment === '.' || segment === '..');
  if (!match || dotSegment || path.length > MAX_SECRET_PATH_CHARS) {
    throw invalid(field, path, expected);
  }
  return path;
}

export function checkBindIp(value: unknown): string {
  if (typeof value !== 'string' || !isIPv4(value) || !value.startsWith('127.')) {
    throw invalid('bindIp', value, 'an IPv4 loopback address in 127.0.0.0/8, such as 127.0.0.2');
  }
  return value;
}

export function checkClusterName(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_CLUSTER_NAME_CHARS || !CLUSTER_NAME.test(value)) {
    throw invalid('proxyCluster', value, `null or 1 to ${MAX_CLUSTER_NAME_CHARS} letters, digits, "-", "_" or "."`);
  }
  return value;
}

/** Checks that PEM text contains one or more certificates and that Node's X509Certificate parses every one. */
export function checkCaPem(value: unknown): string {
  const expected = 'null or PEM text with at least one -----BEGIN CERTIFICATE----- block';
  if (typeof value !== 'string' || value.length > MAX_CA_PEM_CHARS) {
    throw invalid('caPem', value, `${expected}, at most ${MAX_CA_PEM_CHARS} characters`);
  }

  const blocks = value.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) {
    throw invalid('caPem', value, expected);
  }
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ValidationError('caPem', `invalid caPem: certificate ${index + 1} of ${blocks.length} could not be parsed (${reason}); expected valid X.509 certificates in PEM form`);
    }
  });
  return value;
}
