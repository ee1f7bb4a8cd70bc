// Certificate generation for the node's TLS listener, for private CAs and
// for tests: ECDSA P-256 keys made with WebCrypto, certificates built with
// @peculiar/x509. The library loads on first use, so importing this file is
// cheap, but the CLI should still import it lazily.

import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { ValidationError } from '../errors.js';
import { installReflectMetadataShim } from './reflect-metadata-shim.js';

type X509Module = typeof import('@peculiar/x509');

/** Validity of a generated certificate when the caller gives no `days`. */
export const DEFAULT_CERTIFICATE_DAYS = 3650;

/** Start of validity before now, so a peer whose clock runs a little behind still accepts the certificate. */
export const NOT_BEFORE_BACKDATE_MS = 5 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;
const SERIAL_NUMBER_BYTES = 16;
const MAX_DNS_NAME_LENGTH = 253;
const DNS_NAME = /^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

const EC_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGNING_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface CertificateOptions {
  commonName: string;
  /** DNS names and IP addresses the certificate is valid for, as subject alternative names. */
  altNames: string[];
  /** Validity in days from now, DEFAULT_CERTIFICATE_DAYS when absent. */
  days?: number;
}

export interface CertificateAndKey {
  certPem: string;
  /** Unencrypted PKCS#8 private key. */
  keyPem: string;
}

/** A certificate authority that signs server certificates. Clients trust its `certPem`. */
export type CertificateAuthority = CertificateAndKey;

let x509Module: Promise<X509Module> | undefined;

/**
 * Loads @peculiar/x509 once. Its dependency tsyringe throws at import time
 * unless `Reflect.getMetadata` exists, so the shim goes in first.
 */
function loadX509(): Promise<X509Module> {
  x509Module ??= (async () => {
    installReflectMetadataShim();
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    return x509;
  })();
  return x509Module;
}

/** Generates a key pair and a self-signed server certificate, for `sdm gateway init` and the embedded PostgreSQL. */
export async function generateSelfSignedCertificate(options: CertificateOptions): Promise<CertificateAndKey> {
  const x509 = await loadX509();
  const validity = validityOf(options.days);
  const keys = await generateKeyPair();

  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: distinguishedName(x509, options.commonName),
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    signingAlgorithm: EC_SIGNING_ALGORITHM,
    keys,
    extensions: [...(await serverExtensions(x509, options.altNames, keys.publicKey))],
  });

  return { certPem: certificate.toString('pem'), keyPem: await exportPrivateKey(keys.privateKey) };
}

/** Generates a certificate authority whose certificate may sign server certificates but no further CAs. */
export async function generateCertificateAuthority(options: { commonName: string; days?: number }): Promise<CertificateAuthority> {
  const x509 = await loadX509();
  const validity = validityOf(options.days);
  const keys = await generateKeyPair();

  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: distinguishedName(x509, options.commonName),
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    signingAlgorithm: EC_SIGNING_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });

  return { certPem: certificate.toString('pem'), keyPem: await exportPrivateKey(keys.privateKey) };
}

/** Generates a key pair and a server certificate signed by `ca`. */
export async function issueCertificate(ca: CertificateAuthority, options: CertificateOptions): Promise<CertificateAndKey> {
  const x509 = await loadX509();
  const validity = validityOf(options.days);
  const keys = await generateKeyPair();
  const caCertificate = new x509.X509Certificate(ca.certPem);
  const caKey = await importPrivateKey(ca.keyPem);

  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: distinguishedName(x509, options.commonName),
    issuer: caCertificate.subjectName,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    signingAlgorithm: EC_SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      ...(await serverExtensions(x509, options.altNames, keys.publicKey)),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate),
    ],
  });

  return { certPem: certificate.toString('pem'), keyPem: await exportPrivateKey(keys.privateKey) };
}

async function serverExtensions(x509: X509Module, altNames: string[], publicKey: CryptoKey) {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(subjectAlternativeNames(altNames)),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}

/** Sorts each name into an IP or a DNS entry, rejecting what is neither. */
function subjectAlternativeNames(altNames: string[]): { type: 'ip' | 'dns'; value: string }[] {
  if (altNames.length === 0) {
    throw new ValidationError('altNames', 'altNames is empty; expected at least one DNS name or IP address the server is reached by');
  }

  return altNames.map((name) => {
    if (isIP(name) !== 0) {
      return { type: 'ip' as const, value: name };
    }
    if (name.length > MAX_DNS_NAME_LENGTH || !DNS_NAME.test(name)) {
      throw new ValidationError('altNames', `altNames entry "${name}" is neither an IP address nor a DNS name; expected values such as 127.0.0.1 or node.example.com`);
    }
    return { type: 'dns' as const, value: name };
  });
}

function distinguishedName(x509: X509Module, commonName: string) {
  if (commonName.trim().length === 0) {
    throw new ValidationError('commonName', 'commonName is empty; expected a name such as the host name of the server');
  }

  // The JSON form needs no escaping of commas or equals signs in the name.
  return new x509.Name([{ CN: [commonName] }]);
}

function validityOf(days: number | undefined): { notBefore: Date; notAfter: Date } {
  const validDays = days ?? DEFAULT_CERTIFICATE_DAYS;
  if (!Number.isInteger(validDays) || validDays < 1) {
    throw new ValidationError('days', `days is ${String(days)}; expected a whole number of days of at least 1`);
  }

  const now = Date.now();
  return { notBefore: new Date(now - NOT_BEFORE_BACKDATE_MS), notAfter: new Date(now + validDays * DAY_MS) };
}

/** Returns a random serial number with the top bit cleared, because RFC 5280 requires a positive one. */
function randomSerialNumber(): string {
  const bytes = randomBytes(SERIAL_NUMBER_BYTES);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY_ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function exportPrivateKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return ['-----BEGIN PRIVATE KEY-----', ...lines, '-----END PRIVATE KEY-----', ''].join('\n');
}

async function importPrivateKey(keyPem: string): Promise<CryptoKey> {
  const base64 = keyPem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  try {
    return await webcrypto.subtle.importKey('pkcs8', Buffer.from(base64, 'base64'), EC_KEY_ALGORITHM, false, ['sign']);
  } catch (error) {
    throw new ValidationError('ca.keyPem', `cannot import the CA key: ${(error as Error).message}; expected an unencrypted PKCS#8 PEM key for ECDSA P-256`);
  }
}
