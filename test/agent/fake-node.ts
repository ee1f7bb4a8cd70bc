// A small stand-in for the node's tunnel port: a TLS server with a generated
// certificate that reads the hello frame and the bytes after it, then
// accepts or rejects as the test requests.

import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { generateSelfSignedCertificate } from '../../src/tunnel/certificates.js';
import { fingerprintOf } from '../../src/tunnel/fingerprint.js';
import { decodeFrame, encodeFrame, TUNNEL_ALPN, type TunnelReply } from '../../src/tunnel/hello.js';

export interface ReceivedTunnel {
  hello: Record<string, unknown>;
  /** Every byte after the hello frame, as it arrives. */
  after: Buffer;
  socket: tls.TLSSocket;
}

export interface FakeNode {
  host: string;
  port: number;
  fingerprint: string;
  /** Reply the next tunnels get; the test may change it between connections. */
  reply: TunnelReply;
  /** Bytes sent to the client right after an accepting reply, in the same write. */
  greeting: Buffer;
  tunnels: ReceivedTunnel[];
  /** Resolves with the next tunnel once its hello and `minBytes` bytes after it arrived. */
  nextTunnel(minBytes: number): Promise<ReceivedTunnel>;
  close(): Promise<void>;
}

export async function startFakeNode(): Promise<FakeNode> {
  const { certPem, keyPem } = await generateSelfSignedCertificate({ commonName: 'fake node', altNames: ['127.0.0.1'] });
  const waiters: Array<{ minBytes: number; resolve(tunnel: ReceivedTunnel): void }> = [];
  const sockets = new Set<tls.TLSSocket>();

  const node: FakeNode = {
    host: '127.0.0.1',
    port: 0,
    fingerprint: fingerprintOf(certPem),
    reply: { ok: true, sessionId: 'session-1' },
    greeting: Buffer.alloc(0),
    tunnels: [],
    nextTunnel: (minBytes) => new Promise((resolve) => waiters.push({ minBytes, resolve })),
    close: () => new Promise((resolve) => {
      for (const socket of sockets) {
        socket.destroy();
      }
      server.close(() => resolve());
    }),
  };

  const server = tls.createServer({ cert: certPem, key: keyPem, ALPNProtocols: [TUNNEL_ALPN] }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    serveTunnel(node, socket, waiters);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  node.port = (server.address() as AddressInfo).port;
  return node;
}

function serveTunnel(node: FakeNode, socket: tls.TLSSocket, waiters: Array<{ minBytes: number; resolve(tunnel: ReceivedTunnel): void }>): void {
  let buffer = Buffer.alloc(0);
  let tunnel: ReceivedTunnel | undefined;
  let waiter: { minBytes: number; resolve(tunnel: ReceivedTunnel): void } | undefined;

  socket.on('data', (chunk: Buffer) => {
    if (tunnel !== undefined) {
      tunnel.after = Buffer.concat([tunnel.after, chunk]);
    } else {
      buffer = Buffer.concat([buffer, chunk]);
      const frame = decodeFrame(buffer);
      if (frame.state !== 'complete') {
        return;
      }
      tunnel = { hello: frame.value as Record<string, unknown>, after: Buffer.from(frame.rest), socket };
      node.tunnels.push(tunnel);
      waiter = waiters.shift();
      reply(node, socket);
    }

    if (waiter !== undefined && tunnel.after.length >= waiter.minBytes) {
      waiter.resolve(tunnel);
      waiter = undefined;
    }
  });
}

function reply(node: FakeNode, socket: tls.TLSSocket): void {
  const reply = node.reply;
  if (reply.ok) {
    socket.write(Buffer.concat([encodeFrame(reply), node.greeting]));
  } else {
    socket.end(encodeFrame(reply));
  }
}
