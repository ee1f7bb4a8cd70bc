import net from 'node:net';
import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/exit-codes.js';
import { generateCertificateAuthority, generateSelfSignedCertificate, issueCertificate, type CertificateAndKey, type CertificateAuthority } from '../../src/tunnel/certificates.js';
import { fingerprintOf } from '../../src/tunnel/fingerprint.js';
import { ADMIN_ALPN, TUNNEL_ALPN } from '../../src/tunnel/hello.js';
import { connectionError, connectToNode, fetchNodeFingerprint, NodeUnreachableError, nodeServerTlsOptions, TrustError } from '../../src/tunnel/tls.js';

const HOST = '127.0.0.1';
const GREETING = 'hello from the node';

let selfSigned: CertificateAndKey;
let ca: CertificateAuthority;
let issued: CertificateAndKey;
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

beforeAll(async () => {
  selfSigned = await generateSelfSignedCertificate({ commonName: 'node.test', altNames: ['localhost', HOST] });
  ca = await generateCertificateAuthority({ commonName: 'sdm test CA' });
  issued = await issueCertificate(ca, { commonName: 'node.test', altNames: [HOST] });
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) {
    socket.destroy();
  }
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

interface TestServer {
  port: number;
  /** Server name (SNI) of each accepted connection, or false when the client sent none. */
  serverNames: (string | false | null)[];
}

/** Starts a TLS server on loopback that greets each connection and records its SNI. */
async function startTlsServer(certificate: CertificateAndKey, alpnProtocols: string[] = [TUNNEL_ALPN, ADMIN_ALPN]): Promise<TestServer> {
  const serverNames: (string | false | null)[] = [];
  const options = alpnProtocols.length > 0 ? nodeServerTlsOptions({ ...certificate, alpnProtocols }) : { cert: certificate.certPem, key: certificate.keyPem };
  const server = tls.createServer(options, (socket) => {
    serverNames.push(socket.servername);
    socket.on('error', () => undefined);
    socket.end(GREETING);
  });
  server.on('tlsClientError', () => undefined);
  return { port: await listen(server), serverNames };
}

/** Starts a plain TCP server that accepts connections and never sends anything. */
async function startSilentServer(): Promise<number> {
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  return listen(server);
}

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return (server.address() as net.AddressInfo).port;
}

/** Returns a loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function readAll(socket: tls.TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

async function connectionFailure(promise: Promise<unknown>): Promise<unknown> {
  try {
    const socket = await promise;
    (socket as tls.TLSSocket).destroy();
  } catch (error) {
    return error;
  }
  throw new Error('expected the connection to fail, but it succeeded');
}

describe('connectToNode with a pinned fingerprint', () => {
  it('connects when the fingerprint matches', async () => {
    const server = await startTlsServer(selfSigned);

    const socket = await connectToNode({ host: HOST, port: server.port, alpn: TUNNEL_ALPN, fingerprint: fingerprintOf(selfSigned.certPem) });

    expect(socket.alpnProtocol).toBe(TUNNEL_ALPN);
    expect(await readAll(socket)).toBe(GREETING);
  });

  it('accepts the fingerprint without colons, lower case', async () => {
    const server = await startTlsServer(selfSigned);
    const fingerprint = fingerprintOf(selfSigned.certPem).replaceAll(':', '').toLowerCase();

    const socket = await connectToNode({ host: HOST, port: server.port, alpn: TUNNEL_ALPN, fingerprint });

    expect(await readAll(socket)).toBe(GREETING);
  });

  it('negotiates TLS 1.3', async () => {
    const server = await startTlsServer(selfSigned);

    const socket = await connectToNode({ host: HOST, port: server.port, alpn: TUNNEL_ALPN, fingerprint: fingerprintOf(selfSigned.certPem) });
    sockets.push(socket);

    expect(socket.getProtocol()).toBe('TLSv1.3');
  });

  it('rejects another certificate, showing both fingerprints', async () => {
    const other = await generateSelfSignedCertificate({ commonName: 'node.test', altNames: [HOST] });
    const server = await startTlsServer(other);
    const pinned = fingerprintOf(selfSigned.certPem);

    const error = await connectionFailure(connectToNode({ host: HOST, port: server.port, alpn: TUNNEL_ALPN, fingerprint: pinned }));

    expect(error).toBeInstanceOf(TrustError);
    expect(error).toMatchObject({ code: 'fingerprint_mismatch', exitCode: ExitCode.UNTRUSTED });
    expect((error as Error).message).toContain(pinned);
    expect((error as Error).message).toContain(fingerprintOf(other.certPem));
    expect((error as Error).message).toContain(`sdm login --gateway ${HOST}:${server.port}`);
  });

  it('rejects a pinned fingerprint that is not one', async () => {
    const error = await connectionFailure(connectToNode({ host: HOST, port: 1, alpn: TUNNEL_ALPN, fingerprint: 'AB:CD' }));

    expect(error).toMatchObject({ code: 'invalid_value', field: 'fingerprint', exitCode: ExitCode.USAGE });
  });

  it('sends no server name for an IP address', async () => {
    const server = await startTlsServer(selfSigned);

    const socket = await connectToNode({ host: HOST, port: server.port, alpn: TUNNEL_ALPN, fingerprint: fingerprintOf(selfSigned.certPem) });
    await readAll(socket);

    expect(server.serverNames).toEqual([false]);
  });

  it('sends the host name as server name', async () => {
    const server = await startTlsServer(selfSigned);

    const socket = await connectToNode({ host: 'localhost', port: server.port, alpn: TUNNEL_ALPN, fingerprint: fingerprintOf(selfSigned.certPem) });
    await readAll(socket);

    expect(server.serverNames).toEqual(['localhost']);
  });
});

describe('connectToNode with a CA', () => {
  it('connects when the CA signed the certificate for the host', async () => {
    const server = await startTlsServer(issued);

    const socket = await connectToNode({ host: HOST, port: server.port, alpn: TUNNEL_ALPN, caPem: ca.certPem });

    expect(socket.authorized).toBe(true);
    expect(await readAll(socket)).toBe(GREETING);
  });

  it('rejects a certificate for another host', async () => {
    const elsewhere = await issueCertificate(ca, { commonName: 'node.test', altNames: ['node.test', '127.0.0.2'] });
    const server = await startTlsServer(elsewhere);

    const error = await connectionFailure(connectToNode({ host: HOST, port: server.port, alpn: TUNNEL_ALPN, caPem: ca.certPem }));

    expect(error).toBeInstanceOf(TrustError);
    expect(error).toMatchObject({ code: 'certificate_untrusted', exitCode: ExitCode.UNTRUSTED });
    expect((error as Error).message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('rejects a certificate from another CA', async () => {
    const otherCa = await generateCertificateAuthority({ commonName: 'other CA' });
    const server = await startTlsServer(issued);

    const error = await connectionFailure(connectToNode({ host: HOST, port: server.port, alpn: TUNNEL_ALPN, caPem: otherCa.certPem }));

    expect(error).toMatchObject({ code: 'certificate_untrusted', exitCode: ExitCode.UNTRUSTED });
  });

  it('checks the pin as well when both are given', async () => {
    const server = await startTlsServer(issued);

    const error = await connectionFailure(connectToNode({ host: HOST, port: server.port, alpn: TUNNEL_ALPN, caPem: ca.certPem, fingerprint: fingerprintOf(selfSigned.certPem) }));

    expect(error).toMatchObject({ code: 'fingerprint_mismatch' });
  });
});

describe('connectToNode failures', () => {
  it('rejects without fingerprint or CA', async () => {
    const server = await startTlsServer(selfSigned);

    const error = await connectionFailure(connectToNode({ host: HOST, port: server.port, alpn: TUNNEL_ALPN }));

    expect(error).toMatchObject({ code: 'trust_not_configured', exitCode: ExitCode.UNTRUSTED });
    expect(server.serverNames).toEqual([]);
  });

  it('reports a refused port as node_unreachable', async () => {
    const port = await closedPort();

    const error = await connectionFailure(connectToNode({ host: HOST, port, alpn: TUNNEL_ALPN, fingerprint: fingerprintOf(selfSigned.certPem) }));

    expect(error).toBeInstanceOf(NodeUnreachableError);
    expect(error).toMatchObject({ code: 'node_unreachable', exitCode: ExitCode.UNREACHABLE, reason: 'refused' });
    expect((error as Error).message).toContain(`${HOST}:${port}`);
    expect((error as Error).message).toContain('refused');
  });

  it('times out when the handshake never finishes', async () => {
    const port = await startSilentServer();

    const error = await connectionFailure(connectToNode({ host: HOST, port, alpn: TUNNEL_ALPN, fingerprint: fingerprintOf(selfSigned.certPem), connectTimeoutMs: 200 }));

    expect(error).toMatchObject({ code: 'node_unreachable', reason: 'timed_out' });
    expect((error as Error).message).toContain('timed out');
  });

  it('rejects a server that selects no ALPN protocol', async () => {
    const server = await startTlsServer(selfSigned, []);

    const error = await connectionFailure(connectToNode({ host: HOST, port: server.port, alpn: TUNNEL_ALPN, fingerprint: fingerprintOf(selfSigned.certPem) }));

    expect(error).toMatchObject({ code: 'node_unreachable', reason: 'alpn' });
  });

  it('reports a server that rejects the ALPN protocol', async () => {
    const server = await startTlsServer(selfSigned, [ADMIN_ALPN]);

    const error = await connectionFailure(connectToNode({ host: HOST, port: server.port, alpn: TUNNEL_ALPN, fingerprint: fingerprintOf(selfSigned.certPem) }));

    expect(error).toMatchObject({ code: 'node_unreachable', reason: 'tls_handshake' });
  });
});

describe('connectionError', () => {
  const target = { host: 'node.test', port: 8443 };

  it.each([
    ['ECONNREFUSED', 'refused'],
    ['ETIMEDOUT', 'timed_out'],
    ['ENOTFOUND', 'dns'],
    ['EAI_AGAIN', 'dns'],
    ['EHOSTUNREACH', 'no_route'],
    ['ECONNRESET', 'reset'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls_handshake'],
  ])('maps %s to %s', (code, reason) => {
    const error = connectionError(Object.assign(new Error(`connect ${code}`), { code }), target);

    expect(error).toBeInstanceOf(NodeUnreachableError);
    expect(error).toMatchObject({ code: 'node_unreachable', reason });
  });

  it('names the host of a failed DNS lookup', () => {
    const error = connectionError(Object.assign(new Error('getaddrinfo ENOTFOUND node.test'), { code: 'ENOTFOUND' }), target);

    expect(error.message).toContain('DNS lookup of "node.test" failed');
    expect(error.message).toContain('node.test:8443');
  });

  it('maps a verification failure to certificate_untrusted', () => {
    const error = connectionError(Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), target);

    expect(error).toBeInstanceOf(TrustError);
    expect(error).toMatchObject({ code: 'certificate_untrusted' });
  });
});

describe('fetchNodeFingerprint', () => {
  it('returns the fingerprint the node presents', async () => {
    const server = await startTlsServer(selfSigned);

    expect(await fetchNodeFingerprint(HOST, server.port)).toBe(fingerprintOf(selfSigned.certPem));
  });

  it('reports a refused port as node_unreachable', async () => {
    const port = await closedPort();

    await expect(fetchNodeFingerprint(HOST, port)).rejects.toMatchObject({ code: 'node_unreachable', reason: 'refused' });
  });
});

describe('nodeServerTlsOptions', () => {
  it('accepts a TLS 1.2 client', async () => {
    const server = await startTlsServer(selfSigned);

    const socket = tls.connect({ host: HOST, port: server.port, maxVersion: 'TLSv1.2', rejectUnauthorized: false, ALPNProtocols: [TUNNEL_ALPN] });
    sockets.push(socket);
    await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));

    expect(socket.getProtocol()).toBe('TLSv1.2');
  });

  it('rejects a TLS 1.1 client', async () => {
    const server = await startTlsServer(selfSigned);

    const socket = tls.connect({ host: HOST, port: server.port, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', rejectUnauthorized: false, ciphers: 'DEFAULT@SECLEVEL=0' });
    sockets.push(socket);
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));

    // The server's protocol_version alert; a server without minVersion accepts this client.
    expect(error.code).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });
});
