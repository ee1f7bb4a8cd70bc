import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.js';

/** A SHA-256 digest in lowercase hex, the only form in which the store keeps an API token. */
export const TOKEN_HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Hashes an API token for storage and lookup: the SHA-256 of its UTF-8 bytes, in lowercase hex. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Throws ValidationError unless the value is a token hash. The message never
 * quotes the value, because a caller that passed a raw token by mistake
 * would otherwise put the token in an error.
 */
export function checkTokenHash(value: unknown): string {
  if (typeof value !== 'string' || !TOKEN_HASH_PATTERN.test(value)) {
    throw new ValidationError(
      'tokenHash',
      'invalid tokenHash (value not shown, as it may be a token): expected the SHA-256 of the API token as 64 lowercase hex digits',
    );
  }
  return value;
}
