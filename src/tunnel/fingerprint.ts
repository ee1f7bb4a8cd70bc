// SHA-256 certificate fingerprints in the form `openssl x509 -fingerprint
// -sha256` prints: 32 upper-case hex pairs joined by colons. This file uses
// only node:crypto, so the CLI can pin and compare fingerprints without
// loading the X.509 generator in certificates.ts.

import { createHash, X509Certificate } from 'node:crypto';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

/** Length of a SHA-256 digest. */
export const FINGERPRINT_BYTES = 32;

const HEX_PAIR = /^[0-9a-f]{2}$/i;
const HEX_RUN = /^[0-9a-f]+$/i;
const FINGERPRINT_PREFIXES = [/^sha-?256\s+fingerprint\s*=\s*/i, /^sha-?256\s*:\s*/i];

/** Returns the SHA-256 fingerprint of the first certificate in `certPem`. */
export function fingerprintOf(certPem: string): string {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch (error) {
    throw new SdmError('invalid_certificate', `cannot read the certificate: ${(error as Error).message}; expected PEM text starting with -----BEGIN CERTIFICATE-----`, {
      exitCode: ExitCode.USAGE,
      cause: error,
    });
  }

  return fingerprintOfDer(certificate.raw);
}

/** Returns the SHA-256 fingerprint of a DER-encoded certificate, such as `TLSSocket.getPeerCertificate().raw`. */
export function fingerprintOfDer(der: Uint8Array): string {
  const digest = createHash('sha256').update(der).digest('hex').toUpperCase();
  return digest.match(/../g)!.join(':');
}

/**
 * Parses a fingerprint as people paste it: with or without a `SHA256:` or
 * `sha256 Fingerprint=` prefix, with colons between all pairs or none, in
 * any case. Returns the canonical form, or undefined when the text is not
 * 32 bytes of hex.
 */
export function normalizeFingerprint(text: string): string | undefined {
  let hex = text.trim();
  for (const prefix of FINGERPRINT_PREFIXES) {
    hex = hex.replace(prefix, '');
  }

  const pairs = hex.includes(':') ? hex.split(':') : splitIntoPairs(hex);
  if (pairs === undefined || pairs.length !== FINGERPRINT_BYTES || !pairs.every((pair) => HEX_PAIR.test(pair))) {
    return undefined;
  }
  return pairs.join(':').toUpperCase();
}

function splitIntoPairs(hex: string): string[] | undefined {
  if (hex.length !== FINGERPRINT_BYTES * 2 || !HEX_RUN.test(hex)) {
    return undefined;
  }
  return hex.match(/../g) ?? undefined;
}
