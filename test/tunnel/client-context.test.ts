import { describe, expect, it } from 'vitest';
import { clientSecureContext } from '../../src/tunnel/client-context.js';
import { generateSelfSignedCertificate } from '../../src/tunnel/certificates.js';

describe('clientSecureContext', () => {
  it('shares one context per CA set', async () => {
    const first = (await generateSelfSignedCertificate({ commonName: 'first CA', altNames: ['localhost'] })).certPem;
    const second = (await generateSelfSignedCertificate({ commonName: 'second CA', altNames: ['localhost'] })).certPem;

    expect(clientSecureContext({ caPem: first })).toBe(clientSecureContext({ caPem: first }));
    expect(clientSecureContext({ caPem: second })).not.toBe(clientSecureContext({ caPem: first }));
    expect(clientSecureContext('public CAs')).toBe(clientSecureContext('public CAs'));
    expect(clientSecureContext('pinned only')).not.toBe(clientSecureContext('public CAs'));
    expect(clientSecureContext('pinned only')).not.toBe(clientSecureContext({ caPem: first }));
  });

});

describe('a pinned-only context', () => {
  it('verifies no chain when pinned', async () => {
    const server = await generateSelfSignedCertificate({ commonName: 'node', altNames: ['localhost', '127.0.0.1'] });
    const tls = await import('node:tls');
    const listener = tls.createServer({ cert: server.certPem, key: server.keyPem }, (socket) => socket.end());
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;
    try {
      const outcome = await new Promise<{ authorized: boolean; error: string | null }>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', secureContext: clientSecureContext('pinned only'), rejectUnauthorized: false }, () => {
          resolve({ authorized: socket.authorized, error: socket.authorizationError?.toString() ?? null });
          socket.destroy();
        });
        socket.once('error', reject);
      });
      expect(outcome.authorized).toBe(false);
      expect(outcome.error).toMatch(/SELF_SIGNED|self.signed/i);
    } finally {
      listener.close();
    }
  });
});
