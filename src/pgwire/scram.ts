// Client side of SCRAM-SHA-256 (RFC 5802 and RFC 7677) as PostgreSQL uses
// it: no channel binding (gs2 header "n,,"), and the user name inside the
// messages is ignored by the server, which takes it from the StartupMessage.

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { saslprep } from './saslprep.js';
import { ScramError } from './wire-error.js';
import { quoteForMessage } from './wire-values.js';

/** SASL mechanism name PostgreSQL offers for SCRAM without channel binding. */
export const SCRAM_SHA_256 = 'SCRAM-SHA-256';

/** Minimum PBKDF2 iteration count accepted from a server. */
export const MIN_SCRAM_ITERATIONS = 1;

/** Maximum PBKDF2 iteration count accepted from a server. PostgreSQL's default is 4096. */
export const MAX_SCRAM_ITERATIONS = 10_000_000;

/** Random bytes in a generated client nonce, base64-encoded to 24 characters. */
const CLIENT_NONCE_BYTES = 18;

/** Size of a SHA-256 digest, which is also the size of every SCRAM-SHA-256 key. */
const SHA256_BYTES = 32;

/** The gs2 header of a client that does not support channel binding. */
const GS2_HEADER = 'n,,';

/** Printable ASCII without ',' (RFC 5802 "printable"), the characters a nonce may use. */
const NONCE_PATTERN = /^[\x21-\x2b\x2d-\x7e]+$/;

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

type ScramState = 'initial' | 'client-first-sent' | 'client-final-sent' | 'done';

/**
 * One SCRAM-SHA-256 exchange with a PostgreSQL server. Call
 * clientFirstMessage(), pass the server's AuthenticationSASLContinue data to
 * handleServerFirst() and send what it returns, then pass the
 * AuthenticationSASLFinal data to verifyServerFinal(). Every method throws
 * ScramError when the server's message is malformed or out of order.
 */
export class ScramClient {
  private readonly password: string;
  private readonly clientNonce: string;
  private readonly clientFirstBare: string;
  private state: ScramState = 'initial';
  private expectedServerSignature: Buffer | undefined;

  /**
   * `nonce` defaults to 18 random bytes in base64; tests pass a fixed one.
   * `username` defaults to empty, as libpq sends, because PostgreSQL ignores it.
   */
  constructor(password: string, nonce?: string, username = '') {
    this.password = saslprep(password);
    this.clientNonce = nonce ?? randomBytes(CLIENT_NONCE_BYTES).toString('base64');
    if (!NONCE_PATTERN.test(this.clientNonce)) {
      throw new ScramError(`client nonce ${quoteForMessage(this.clientNonce)} is invalid; expected printable ASCII without ","`);
    }
    this.clientFirstBare = `n=${escapeSaslName(username)},r=${this.clientNonce}`;
  }

  /** Returns the client-first-message, the initial response of SASLInitialResponse. */
  clientFirstMessage(): string {
    this.requireState('initial', 'clientFirstMessage');
    this.state = 'client-first-sent';
    return GS2_HEADER + this.clientFirstBare;
  }

  /**
   * Checks the server-first-message and returns the client-final-message
   * with the client proof. Throws ScramError when the server's nonce does
   * not extend the client's, the salt is not base64, or the iteration count
   * is outside 1..10,000,000.
   *
   * NOTE: PBKDF2 runs synchronously and blocks the event loop for as long
   * as the server's iteration count demands: about 0.5 ms per thousand
   * iterations (measured with pbkdf2Sync on one AMD EPYC core), so the
   * maximum of 10,000,000 blocks for seconds.
   */
  handleServerFirst(message: string): string {
    this.requireState('client-first-sent', 'handleServerFirst');
    const { serverNonce, salt, iterations } = parseServerFirst(message, this.clientNonce);

    const saltedPassword = pbkdf2Sync(this.password, salt, iterations, SHA256_BYTES, 'sha256');
    const clientFinalWithoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${serverNonce}`;
    const authMessage = `${this.clientFirstBare},${message},${clientFinalWithoutProof}`;

    const clientKey = hmac(saltedPassword, 'Client Key');
    const clientSignature = hmac(createHash('sha256').update(clientKey).digest(), authMessage);
    const proof = xor(clientKey, clientSignature);
    this.expectedServerSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage);

    this.state = 'client-final-sent';
    return `${clientFinalWithoutProof},p=${proof.toString('base64')}`;
  }

  /**
   * Checks the server-final-message. Throws ScramError when the server
   * reports an error (e=...) or its signature does not match, which means it
   * has not proved knowledge of the password.
   */
  verifyServerFinal(message: string): void {
    this.requireState('client-final-sent', 'verifyServerFinal');
    const attributes = message.split(',');

    if (attributes[0].startsWith('e=')) {
      throw new ScramError(`server rejected the SCRAM exchange: ${quoteForMessage(attributes[0].slice(2))}`);
    }
    const signature = readAttribute(attributes[0], 'v', 'server-final-message');
    if (!BASE64_PATTERN.test(signature)) {
      throw new ScramError(`server signature ${quoteForMessage(signature)} is not base64`);
    }

    const received = Buffer.from(signature, 'base64');
    const expected = this.expectedServerSignature as Buffer;
    if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
      throw new ScramError('server signature does not match, so the server has not proved knowledge of the password', {
        hint: 'Check that the host is the intended PostgreSQL server.',
      });
    }
    this.state = 'done';
  }

  private requireState(expected: ScramState, method: string): void {
    if (this.state !== expected) {
      throw new ScramError(`${method}() called in SCRAM state "${this.state}"; expected "${expected}"`);
    }
  }
}

interface ServerFirst {
  serverNonce: string;
  salt: Buffer;
  iterations: number;
}

function parseServerFirst(message: string, clientNonce: string): ServerFirst {
  const attributes = message.split(',');
  if (attributes[0].startsWith('m=')) {
    throw new ScramError('server-first-message requires a SCRAM extension (m=), which this client does not support');
  }

  const serverNonce = readAttribute(attributes[0], 'r', 'server-first-message');
  if (!serverNonce.startsWith(clientNonce) || serverNonce.length === clientNonce.length || !NONCE_PATTERN.test(serverNonce)) {
    throw new ScramError(`server nonce ${quoteForMessage(serverNonce)} does not extend the client nonce ${quoteForMessage(clientNonce)}`, {
      hint: 'The server or something between it and sdm is not following SCRAM; check the host.',
    });
  }

  const salt = readAttribute(attributes[1] ?? '', 's', 'server-first-message');
  if (salt === '' || !BASE64_PATTERN.test(salt)) {
    throw new ScramError(`server salt ${quoteForMessage(salt)} is not non-empty base64`);
  }

  return { serverNonce, salt: Buffer.from(salt, 'base64'), iterations: readIterations(attributes[2] ?? '') };
}

function readIterations(attribute: string): number {
  const text = readAttribute(attribute, 'i', 'server-first-message');
  const iterations = /^[0-9]{1,9}$/.test(text) ? Number(text) : Number.NaN;

  if (!(iterations >= MIN_SCRAM_ITERATIONS && iterations <= MAX_SCRAM_ITERATIONS)) {
    throw new ScramError(`server iteration count ${quoteForMessage(text)} is invalid; expected an integer in ${MIN_SCRAM_ITERATIONS}..${MAX_SCRAM_ITERATIONS}`);
  }
  return iterations;
}

function readAttribute(attribute: string, name: string, messageName: string): string {
  if (!attribute.startsWith(`${name}=`)) {
    throw new ScramError(`${messageName} has ${quoteForMessage(attribute)} where attribute "${name}=" was expected`);
  }
  return attribute.slice(name.length + 1);
}

// RFC 5802 saslname: ',' and '=' are written as =2C and =3D.
function escapeSaslName(name: string): string {
  return name.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

function xor(left: Buffer, right: Buffer): Buffer {
  const result = Buffer.allocUnsafe(left.length);
  for (let index = 0; index < left.length; index += 1) {
    result[index] = left[index] ^ right[index];
  }
  return result;
}
