// Tokens the emulator issues. They have the shape of an Entra access token
// (a JWT: three base64url parts, with `aud`, `oid` and `exp` in the payload)
// so code that peeks at the claims works, but the signature is random bytes
// that nothing can verify. Each issue gets a fresh `jti` and signature, so
// no two tokens are equal.

import { createHash, randomBytes, randomUUID } from 'node:crypto';

/**
 * Upper bound on the length of an issued token. PostgreSQL rejects a
 * PasswordMessage longer than 1000 bytes before authentication, and the
 * token travels in one, so the emulator stays well below that.
 */
export const MAX_FAKE_TOKEN_BYTES = 900;

/** Tenant ID that every emulated token names. */
export const EMULATOR_TENANT_ID = '72f988bf-0000-4000-8000-00000000e5d1';

const SIGNATURE_BYTES = 32;

export interface FakeTokenClaims {
  clientId: string;
  /** Audience: the `resource` of the token request. */
  resource: string;
  issuedAtSeconds: number;
  expiresAtSeconds: number;
}

/** Builds one JWT-shaped token for a managed identity. */
export function createFakeToken(claims: FakeTokenClaims): string {
  const header = { typ: 'JWT', alg: 'RS256', kid: 'sdm-emulator' };
  const payload = {
    aud: claims.resource,
    iss: `https://sts.windows.net/${EMULATOR_TENANT_ID}/`,
    iat: claims.issuedAtSeconds,
    nbf: claims.issuedAtSeconds,
    exp: claims.expiresAtSeconds,
    appid: claims.clientId,
    oid: objectIdFor(claims.clientId),
    sub: objectIdFor(claims.clientId),
    tid: EMULATOR_TENANT_ID,
    idtyp: 'app',
    jti: randomUUID(),
  };

  const token = [encodeJson(header), encodeJson(payload), randomBytes(SIGNATURE_BYTES).toString('base64url')].join('.');
  if (Buffer.byteLength(token) > MAX_FAKE_TOKEN_BYTES) {
    throw new RangeError(
      `emulated token is ${Buffer.byteLength(token)} bytes, above the maximum of ${MAX_FAKE_TOKEN_BYTES}; use a shorter client ID or resource`,
    );
  }
  return token;
}

/**
 * Derives a stable object ID (the `oid` claim) from a client ID, so a test
 * can predict the principal that a token names.
 */
export function objectIdFor(clientId: string): string {
  const hex = createHash('sha256').update(clientId.toLowerCase()).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function encodeJson(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}
