import crypto from 'node:crypto';

export { hashApiToken } from '../store/token-hash.js';

/** Random bytes in an API token; the text form is base64url after a prefix. */
export const API_TOKEN_BYTES = 32;

const API_TOKEN_PREFIX = 'sdm_';

/** Creates a new API token. It is shown once and stored only as its hash. */
export function generateApiToken(): string {
  return API_TOKEN_PREFIX + crypto.randomBytes(API_TOKEN_BYTES).toString('base64url');
}
