import type net from 'node:net';

import { serialize } from 'pg-protocol';

import { encodeStartupMessage } from '../pgwire/startup.js';
import { md5Password } from '../pgwire/md5.js';
import { ScramClient } from '../pgwire/scram.js';
import { parseErrorFields } from '../pgwire/backend-messages.js';
import { SessionError } from './session-error.js';
import {
  connectUpstream,
  protocolError,
  timeoutError,
  UpstreamMessageReader,
  type BackendMessage,
  type UpstreamTarget,
} from './upstream-socket.js';

/** Time allowed from the first TCP packet to the server's first ReadyForQuery. */
export const UPSTREAM_LOGIN_TIMEOUT_MS = 20_000;

// Authentication request subtypes of the 'R' message.
const AUTH_OK = 0;
const AUTH_CLEARTEXT = 3;
const AUTH_MD5 = 5;
const AUTH_SASL = 10;
const AUTH_SASL_CONTINUE = 11;
const AUTH_SASL_FINAL = 12;

const SCRAM_SHA_256 = 'SCRAM-SHA-256';

export interface UpstreamLogin {
  user: string;
  /** The Entra access token, sent as the password. Never logged. */
  token: string;
  protocolVersion: number;
  parameters: Map<string, string>;
}

export interface BackendKey {
  processId: number;
  secretKey: Buffer;
}

export interface UpstreamSession {
  socket: net.Socket;
  /** The server's messages from AuthenticationOk to the first ReadyForQuery, in order. */
  greeting: BackendMessage[];
  backendKey?: BackendKey;
  /** Bytes received after that ReadyForQuery, to relay before anything else. */
  leftover: Buffer;
}

/**
 * Connects to the database server and signs in with the token as the
 * password, by whichever method the server requests: cleartext (what Azure
 * requests), MD5 or SCRAM-SHA-256. An ErrorResponse from the server becomes
 * a SessionError that carries the server's own message for the client.
 */
export async function openUpstream(target: UpstreamTarget, login: UpstreamLogin, timeoutMs = UPSTREAM_LOGIN_TIMEOUT_MS): Promise<UpstreamSession> {
  const signal = AbortSignal.timeout(timeoutMs);
  const socket = await connectUpstream(target, signal);
  const reader = new UpstreamMessageReader(socket, target);
  const onAbort = () => socket.destroy(timeoutError(target, 'signing in'));
  signal.addEventListener('abort', onAbort, { once: true });

  try {
    socket.write(encodeStartupMessage(login.protocolVersion, login.parameters));
    await authenticate(socket, reader, target, login);
    const { greeting, backendKey } = await readGreeting(reader, target);
    return { socket, greeting, backendKey, leftover: reader.detach() };
  } catch (error) {
    reader.detach();
    socket.destroy();
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function authenticate(socket: net.Socket, reader: UpstreamMessageReader, target: UpstreamTarget, login: UpstreamLogin): Promise<void> {
  let scram: ScramClient | undefined;

  for (;;) {
    const message = await reader.next();
    if (message.code === 'E') {
      throw serverRefused(target, message);
    }
    if (message.code === 'v') {
      continue;
    }
    if (message.code !== 'R') {
      throw protocolError(target, `expected an authentication request, got message '${message.code}'`);
    }

    const subtype = message.body.readInt32BE(0);
    switch (subtype) {
      case AUTH_OK:
        reader.unshift(message);
        return;
      case AUTH_CLEARTEXT:
        socket.write(serialize.password(login.token));
        break;
      case AUTH_MD5:
        socket.write(serialize.password(md5Password(login.user, login.token, message.body.subarray(4, 8))));
        break;
      case AUTH_SASL:
        scram = startScram(socket, message.body, target, login.token);
        break;
      case AUTH_SASL_CONTINUE:
        socket.write(serialize.sendSCRAMClientFinalMessage(requireScram(scram, target).handleServerFirst(message.body.subarray(4).toString('utf8'))));
        break;
      case AUTH_SASL_FINAL:
        verifyScramFinal(requireScram(scram, target), message.body.subarray(4).toString('utf8'), target);
        break;
      default:
        throw new SessionError(
          'upstream_auth_unsupported',
          '28000',
          `sdm: resource "${target.resourceName}": the database server asks for authentication method ${subtype}, but sdm answers only cleartext, MD5 and SCRAM-SHA-256 with the managed identity's token`,
        );
    }
  }
}

function startScram(socket: net.Socket, body: Buffer, target: UpstreamTarget, token: string): ScramClient {
  const mechanisms = body.subarray(4).toString('utf8').split('\0').filter((name) => name.length > 0);
  if (!mechanisms.includes(SCRAM_SHA_256)) {
    throw new SessionError(
      'upstream_auth_unsupported',
      '28000',
      `sdm: resource "${target.resourceName}": the database server offers SASL mechanisms ${mechanisms.join(', ')}, and sdm supports only ${SCRAM_SHA_256}`,
    );
  }
  const scram = new ScramClient(token);
  socket.write(serialize.sendSASLInitialResponseMessage(SCRAM_SHA_256, scram.clientFirstMessage()));
  return scram;
}

function requireScram(scram: ScramClient | undefined, target: UpstreamTarget): ScramClient {
  if (!scram) {
    throw protocolError(target, 'SASL continuation without a SASL start');
  }
  return scram;
}

function verifyScramFinal(scram: ScramClient, message: string, target: UpstreamTarget): void {
  try {
    scram.verifyServerFinal(message);
  } catch (error) {
    throw new SessionError(
      'upstream_scram_failed',
      '28000',
      `sdm: resource "${target.resourceName}": the database server's SCRAM signature did not verify: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

async function readGreeting(reader: UpstreamMessageReader, target: UpstreamTarget): Promise<{ greeting: BackendMessage[]; backendKey?: BackendKey }> {
  const greeting: BackendMessage[] = [];
  let backendKey: BackendKey | undefined;

  for (;;) {
    const message = await reader.next();
    if (message.code === 'E') {
      throw serverRefused(target, message);
    }
    if (message.code === 'K') {
      backendKey = { processId: message.body.readInt32BE(0), secretKey: Buffer.from(message.body.subarray(4)) };
    }
    greeting.push(message);
    if (message.code === 'Z') {
      return { greeting, backendKey };
    }
  }
}

function serverRefused(target: UpstreamTarget, message: BackendMessage): SessionError {
  const fields = parseErrorFields(message.body);
  const sqlstate = fields.get('C') ?? '08006';
  return new SessionError(
    'upstream_refused',
    sqlstate,
    `sdm: resource "${target.resourceName}": the database server refused the login: ${fields.get('M') ?? 'no message'}`,
    { serverError: Buffer.from(message.raw) },
  );
}
