import { describe, expect, it } from 'vitest';
import { clientSecureContext } from '../../src/tunnel/client-context.js';
import { generateSelfSignedCertificate } from '../../src/tunnel/certificates.js';

describe('clientSecureContext', () => {
  it('builds one context per CA set and shares it', async () => {
    const first = (await generateSelfSignedCertificate({ commonName: 'first CA', altNames: ['localhost'] })).certPem;
    const second = (await generateSelfSignedCertificate({ commonName: 'second CA', altNames: ['localhost'] })).certPem;

    expect(clientSecureContext(first)).toBe(clientSecureContext(first));
    expect(clientSecureContext(second)).not.toBe(clientSecureContext(first));
    expect(clientSecureContext(undefined)).toBe(clientSecureContext(undefined));
    expect(clientSecureContext(undefined)).not.toBe(clientSecureContext(first));
  });

});
