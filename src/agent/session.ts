// One PostgreSQL client connection accepted by a resource's listener. The
// agent declines SSLRequest and GSSENCRequest itself with 'N', because the
// bytes travel inside the TLS tunnel and the client is on loopback. Then it
// opens one tunnel to the node and sends the hello and the client's startup
// bytes in one write. Once the node accepts, it copies bytes both ways until
// either side closes.

import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { errorResponse } from '../pgwire/backend-messages.js';
import { PROTOCOL_VIOLATION } from '../pgwire/constants.js';
import { readClientStartup, STARTUP_TIMEOUT_MS, type ClientStartup } from '../tunnel/client-startup.js';
import { encodeFrame, TUNNEL_ALPN, TUNNEL_PROTOCOL_VERSION } from '../tunnel/hello.js';
import type { ConnectToNodeOptions } from '../tunnel/tls.js';
import { rejectedHelloFailure, tunnelFailure, type ClientFailure } from './session-errors.js';
import { readTunnelReply, TUNNEL_REPLY_TIMEOUT_MS } from './tunnel-reply.js';

/** Idle time before the first TCP keepalive probe on a client connection. */
export const CLIENT_KEEPALIVE_INITIAL_DELAY_MS = 30_000;

/** Time one side of a connection gets to finish after the other has ended or failed, before both are destroyed. */
export const CLOSE_LINGER_MS = 5_000;

/** Destination of a tunnel: the node's address and trust, and the user's API token. */
export interface TunnelTarget {
  node: Omit<ConnectToNodeOptions, 'alpn'>;
  token: string;
}

export interface SessionDependencies {
  /** Resolves the node and token for a new tunnel; throws when the user is not logged in. */
  resolveTarget(): Promise<TunnelTarget>;
  connectToNode(options: ConnectToNodeOptions): Promise<TLSSocket>;
  logger: Logger;
  startupTimeoutMs?: number;
  replyTimeoutMs?: number;
}

/**
 * Serves one client connection for `resource` and resolves when both the
 * client socket and the tunnel (if one was opened) are closed. It never rejects.
 */
export async function runSession(client: Socket, resource: string, deps: SessionDependencies): Promise<void> {
  const logger = deps.logger;
  const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));

  client.setKeepAlive(true, CLIENT_KEEPALIVE_INITIAL_DELAY_MS);
  client.setNoDelay(true);
  client.on('error', (error) => logger.debug({ err: error.message }, 'client socket error'));
  logger.info({ clientAddress: client.remoteAddress, clientPort: client.remotePort }, 'client connected');

  const tunnel = await openSession(client, resource, deps);
  if (tunnel !== undefined) {
    await relay(client, tunnel, logger);
  }

  await clientClosed;
  logger.info({ bytesFromClient: client.bytesRead, bytesToClient: client.bytesWritten }, 'connection closed');
}

/** Reads the startup, opens the tunnel and reads the reply; returns the tunnel, or undefined after telling the client why not. */
async function openSession(client: Socket, resource: string, deps: SessionDependencies): Promise<TLSSocket | undefined> {
  const startup = await readStartup(client, deps);
  if (startup === undefined) {
    return undefined;
  }

  let tunnel: TLSSocket | undefined;
  const abandon = (): void => {
    tunnel?.destroy();
  };
  // A client may close right after its CancelRequest (the postgres package
  // does), and the cancel must still reach the node, so only a login is
  // abandoned when its client goes away.
  if (startup.packet.kind !== 'cancel') {
    client.once('close', abandon);
  }

  try {
    const target = await deps.resolveTarget();
    tunnel = await deps.connectToNode({ ...target.node, alpn: TUNNEL_ALPN });
    tunnel.on('error', (error) => deps.logger.debug({ err: error.message }, 'tunnel socket error'));
    if (client.destroyed && startup.packet.kind !== 'cancel') {
      tunnel.destroy();
      return undefined;
    }

    const hello = encodeFrame({ version: TUNNEL_PROTOCOL_VERSION, token: target.token, resource, clientAddress: client.remoteAddress });
    tunnel.write(Buffer.concat([hello, startup.raw, startup.rest]));
    return await acceptReply(client, tunnel, resource, deps);
  } catch (error) {
    tunnel?.destroy();
    deps.logger.warn({ code: (error as { code?: string }).code, err: (error as Error).message }, 'tunnel failed');
    sendFailure(client, tunnelFailure(resource, error));
    return undefined;
  } finally {
    client.off('close', abandon);
  }
}

/** Reads the client's StartupMessage or CancelRequest; returns undefined after sending the client an error. */
async function readStartup(client: Socket, deps: SessionDependencies): Promise<ClientStartup | undefined> {
  try {
    return await readClientStartup(client, Buffer.alloc(0), deps.startupTimeoutMs ?? STARTUP_TIMEOUT_MS);
  } catch (error) {
    const reason = (error as Error).message;
    deps.logger.info({ reason }, 'startup rejected');
    sendFailure(client, { sqlstate: PROTOCOL_VIOLATION, message: `sdm: ${reason}` });
    return undefined;
  }
}

async function acceptReply(client: Socket, tunnel: TLSSocket, resource: string, deps: SessionDependencies): Promise<TLSSocket | undefined> {
  const { reply, rest } = await readTunnelReply(tunnel, deps.replyTimeoutMs ?? TUNNEL_REPLY_TIMEOUT_MS);

  if (!reply.ok) {
    deps.logger.info({ code: reply.code }, 'node rejected the tunnel');
    tunnel.destroy();
    sendFailure(client, rejectedHelloFailure(resource, reply.code, reply.message));
    return undefined;
  }

  deps.logger.info({ sessionId: reply.sessionId }, 'tunnel open');
  if (rest.length > 0) {
    client.write(rest);
  }
  return tunnel;
}

/**
 * Copies bytes both ways with backpressure and resolves when both directions
 * are done. An error on either side destroys both. Once one direction has
 * ended, the other gets CLOSE_LINGER_MS to end too, so a half-closed pair
 * cannot linger.
 */
function relay(client: Socket, tunnel: TLSSocket, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    let openDirections = 2;
    let linger: NodeJS.Timeout | undefined;
    const destroyBoth = (): void => {
      client.destroy();
      tunnel.destroy();
    };

    const onDone = (error: NodeJS.ErrnoException | null): void => {
      openDirections -= 1;
      if (error && error.code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        logger.debug({ err: error.message }, 'relay failed');
      }
      if (error) {
        destroyBoth();
      }

      if (openDirections === 1) {
        linger = setTimeout(destroyBoth, CLOSE_LINGER_MS);
      } else {
        clearTimeout(linger);
        destroyBoth();
        resolve();
      }
    };

    pipeline(client, tunnel, onDone);
    pipeline(tunnel, client, onDone);
  });
}

function sendFailure(client: Socket, failure: ClientFailure): void {
  if (client.destroyed) {
    return;
  }
  client.end(errorResponse({ severity: 'FATAL', code: failure.sqlstate, message: failure.message, hint: failure.hint }));
  client.resume();
  const timer = setTimeout(() => client.destroy(), CLOSE_LINGER_MS);
  client.once('close', () => clearTimeout(timer));
}
