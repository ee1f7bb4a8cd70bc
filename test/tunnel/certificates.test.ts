import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateCertificateAuthority, generateSelfSignedCertificate, issueCertificate } from '../../src/tunnel/certificates.js';
import { fingerprintOf, normalizeFingerprint } from '../../src/tunnel/fingerprint.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Computes what `openssl x509 -fingerprint -sha256` prints, from the PEM's DER bytes. */
function opensslFingerprintLine(certPem: string): string {
  const base64 = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  const digest = createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex').toUpperCase();
  return `sha256 Fingerprint=${digest.match(/../g)!.join(':')}`;
}

describe('generateSelfSignedCertificate', () => {
  it('signs the certificate with its own key', async () => {
    const { certPem } = await generateSelfSignedCertificate({ commonName: 'node.test', altNames: ['127.0.0.1'] });
    const certificate = new X509Certificate(certPem);

    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.issuer).toBe(certificate.subject);
  });

  it('lists DNS names and IPs as alternative names', async () => {
    const { certPem } = await generateSelfSignedCertificate({ commonName: 'node.test', altNames: ['localhost', 'node.test', '127.0.0.1', '::1'] });
    const names = new X509Certificate(certPem).subjectAltName?.split(', ');

    expect(names).toContain('DNS:localhost');
    expect(names).toContain('DNS:node.test');
    expect(names).toContain('IP Address:127.0.0.1');
    expect(names).toContain('IP Address:0:0:0:0:0:0:0:1');
  });

  it('sets the common name, also with a comma', async () => {
    const { certPem } = await generateSelfSignedCertificate({ commonName: 'sdm node, test', altNames: ['127.0.0.1'] });

    // Node escapes the comma when it prints the name.
    expect(new X509Certificate(certPem).subject).toBe('CN=sdm node\\, test');
  });

  it('returns a PKCS#8 P-256 key for the certificate', async () => {
    const { certPem, keyPem } = await generateSelfSignedCertificate({ commonName: 'node.test', altNames: ['127.0.0.1'] });
    const key = createPrivateKey(keyPem);

    expect(keyPem.startsWith('-----BEGIN PRIVATE KEY-----\n')).toBe(true);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new X509Certificate(certPem).checkPrivateKey(key)).toBe(true);
  });

  it('is a server certificate, not a CA', async () => {
    const { certPem } = await generateSelfSignedCertificate({ commonName: 'node.test', altNames: ['127.0.0.1'] });
    const certificate = new X509Certificate(certPem);

    expect(certificate.ca).toBe(false);
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('is valid for the given days', async () => {
    const { certPem } = await generateSelfSignedCertificate({ commonName: 'node.test', altNames: ['127.0.0.1'], days: 30 });
    const certificate = new X509Certificate(certPem);
    const validDays = (Date.parse(certificate.validTo) - Date.now()) / DAY_MS;

    expect(Date.parse(certificate.validFrom)).toBeLessThan(Date.now());
    expect(Math.round(validDays)).toBe(30);
  });

  it('rejects empty altNames', async () => {
    await expect(generateSelfSignedCertificate({ commonName: 'node.test', altNames: [] })).rejects.toMatchObject({ code: 'invalid_value', field: 'altNames' });
  });

  it('rejects an altName that is no host', async () => {
    await expect(generateSelfSignedCertificate({ commonName: 'node.test', altNames: ['not a host'] })).rejects.toMatchObject({ code: 'invalid_value', field: 'altNames' });
  });

  it('rejects an empty common name', async () => {
    await expect(generateSelfSignedCertificate({ commonName: ' ', altNames: ['127.0.0.1'] })).rejects.toMatchObject({ code: 'invalid_value', field: 'commonName' });
  });

  it('rejects zero days', async () => {
    await expect(generateSelfSignedCertificate({ commonName: 'node.test', altNames: ['127.0.0.1'], days: 0 })).rejects.toMatchObject({ code: 'invalid_value', field: 'days' });
  });
});

describe('issueCertificate', () => {
  it('issues a chain that verifies against the CA', async () => {
    const ca = await generateCertificateAuthority({ commonName: 'sdm test CA' });
    const server = await issueCertificate(ca, { commonName: 'node.test', altNames: ['127.0.0.1'] });
    const caCertificate = new X509Certificate(ca.certPem);
    const serverCertificate = new X509Certificate(server.certPem);

    expect(serverCertificate.verify(caCertificate.publicKey)).toBe(true);
    expect(serverCertificate.checkIssued(caCertificate)).toBe(true);
    expect(serverCertificate.issuer).toBe('CN=sdm test CA');
  });

  it('does not verify against another CA', async () => {
    const ca = await generateCertificateAuthority({ commonName: 'sdm test CA' });
    const other = await generateCertificateAuthority({ commonName: 'sdm test CA' });
    const server = await issueCertificate(ca, { commonName: 'node.test', altNames: ['127.0.0.1'] });

    expect(new X509Certificate(server.certPem).verify(new X509Certificate(other.certPem).publicKey)).toBe(false);
  });

  it('marks only the authority as a CA', async () => {
    const ca = await generateCertificateAuthority({ commonName: 'sdm test CA' });
    const server = await issueCertificate(ca, { commonName: 'node.test', altNames: ['127.0.0.1'] });

    expect(new X509Certificate(ca.certPem).ca).toBe(true);
    expect(new X509Certificate(server.certPem).ca).toBe(false);
  });

  it('gives the issued key to the issued certificate', async () => {
    const ca = await generateCertificateAuthority({ commonName: 'sdm test CA' });
    const server = await issueCertificate(ca, { commonName: 'node.test', altNames: ['node.test', '127.0.0.1'] });
    const certificate = new X509Certificate(server.certPem);

    expect(certificate.checkPrivateKey(createPrivateKey(server.keyPem))).toBe(true);
    expect(certificate.subjectAltName).toBe('DNS:node.test, IP Address:127.0.0.1');
  });

  it('rejects a CA key that is not PKCS#8', async () => {
    const ca = await generateCertificateAuthority({ commonName: 'sdm test CA' });
    const broken = { certPem: ca.certPem, keyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' };

    await expect(issueCertificate(broken, { commonName: 'node.test', altNames: ['127.0.0.1'] })).rejects.toMatchObject({ code: 'invalid_value', field: 'ca.keyPem' });
  });
});

describe('fingerprintOf', () => {
  it('matches the openssl fingerprint', async () => {
    const { certPem } = await generateSelfSignedCertificate({ commonName: 'node.test', altNames: ['127.0.0.1'] });

    expect(`sha256 Fingerprint=${fingerprintOf(certPem)}`).toBe(opensslFingerprintLine(certPem));
  });

  it('matches node:crypto fingerprint256', async () => {
    const { certPem } = await generateSelfSignedCertificate({ commonName: 'node.test', altNames: ['127.0.0.1'] });

    expect(fingerprintOf(certPem)).toBe(new X509Certificate(certPem).fingerprint256);
  });

  it('differs between certificates', async () => {
    const first = await generateSelfSignedCertificate({ commonName: 'node.test', altNames: ['127.0.0.1'] });
    const second = await generateSelfSignedCertificate({ commonName: 'node.test', altNames: ['127.0.0.1'] });

    expect(fingerprintOf(first.certPem)).not.toBe(fingerprintOf(second.certPem));
  });

  it('rejects text that is no certificate', () => {
    expect(() => fingerprintOf('not a certificate')).toThrow(expect.objectContaining({ code: 'invalid_certificate' }));
  });
});

describe('normalizeFingerprint', () => {
  const canonical = Array.from({ length: 32 }, (_, index) => (index * 7 + 10).toString(16).padStart(2, '0').toUpperCase()).join(':');
  const bare = canonical.replaceAll(':', '');

  it.each([
    ['canonical', canonical],
    ['lower case', canonical.toLowerCase()],
    ['no colons', bare],
    ['no colons, lower case', bare.toLowerCase()],
    ['SHA256: prefix', `SHA256:${canonical}`],
    ['sha256: prefix, bare', `sha256:${bare}`],
    ['openssl prefix', `sha256 Fingerprint=${canonical}`],
    ['openssl prefix, upper case', `SHA256 Fingerprint=${canonical}`],
    ['surrounding spaces', `  ${canonical}\n`],
  ])('accepts %s', (_case, text) => {
    expect(normalizeFingerprint(text)).toBe(canonical);
  });

  it.each([
    ['empty', ''],
    ['too short', canonical.slice(0, -3)],
    ['too long', `${canonical}:AB`],
    ['not hex', canonical.replace(/^../, 'ZZ')],
    ['single digit pair', canonical.replace(/^0A/, 'A')],
    ['mixed separators', canonical.replace(':', '')],
    ['SHA-1 length', bare.slice(0, 40)],
    ['base64', 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU'],
  ])('rejects %s', (_case, text) => {
    expect(normalizeFingerprint(text)).toBeUndefined();
  });
});
