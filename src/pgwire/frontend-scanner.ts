import { FrontendCode, MESSAGE_HEADER_BYTES, LENGTH_FIELD_BYTES, PROTOCOL_VIOLATION } from './constants.js';
import { completeUtf8Length } from './utf8.js';

/** A protocol violation in the client stream. The node sends it as an ErrorResponse and closes the connection. */
export interface ScanError {
  sqlstate: string;
  message: string;
}

export interface FrontendScannerOptions {
  /** Maximum bytes of statement text copied per Query or Parse message. */
  maxTextBytes: number;
  /** Receives the text of each Query and Parse message, cut to `maxTextBytes` on a character boundary. */
  onStatement(text: string, truncated: boolean, protocol: 'simple' | 'extended'): void;
  /** Called when the client sends Terminate. */
  onTerminate?(): void;
  /**
   * Receives the first `maxBindBytes` of each Bind message body, and whether
   * it was cut. Absent: Bind messages are skipped like any other.
   */
  onBind?(body: Buffer, truncated: boolean): void;
  /** Maximum bytes of a Bind message body copied for `onBind`. */
  maxBindBytes?: number;
}

/** Default cap on the Bind body copied for `onBind`. */
export const DEFAULT_MAX_BIND_BYTES = 16 * 1024;

/** Position of the scanner inside the current message. */
const enum Phase {
  Header,
  /** Inside a Parse message's statement name, which is skipped. */
  StatementName,
  /** Inside the query string of a Query or Parse message, which is copied up to the cap. */
  StatementText,
  /** Inside a Bind message body, which is copied up to the cap for `onBind`. */
  BindBody,
  /** Inside the part of a message that is counted and not read. */
  Skip,
  Failed,
}

/** Type bytes allowed after authentication. PasswordMessage ('p') belongs to the authentication phase only. */
const SESSION_CODES: ReadonlySet<number> = new Set(
  Object.values(FrontendCode).filter((code) => code !== FrontendCode.Password),
);

const EXPECTED_CODES = [...SESSION_CODES].map((code) => String.fromCharCode(code)).sort().join(', ');

/**
 * Follows the client-to-server byte stream after startup for the audit log.
 * It reads message headers only, carrying a partial header across chunks,
 * and skips every message body by counting bytes. Query ('Q') and Parse
 * ('P') messages are the exception: the first `maxTextBytes` bytes of their
 * query string are decoded, straight from the chunk when the whole string is
 * in it, and otherwise from a buffer allocated for that message. Other
 * messages cause no allocation, so the scanner never keeps a whole message.
 */
export class FrontendScanner {
  /** A header split across chunks, gathered until complete. */
  private readonly header = Buffer.alloc(MESSAGE_HEADER_BYTES);
  private headerBytes = 0;
  /** Type byte of the current message. */
  private code = 0;
  private phase = Phase.Header;
  private remainingBytes = 0;
  private streamOffset = 0;
  private messageOffset = 0;
  private text: Buffer | undefined;
  /** Bytes the current message's text or Bind body may take; `text` is allocated with this size when first needed. */
  private textCapacity = 0;
  private textBytes = 0;
  private truncated = false;
  private failure: ScanError | undefined;

  constructor(private readonly options: FrontendScannerOptions) {
    if (!Number.isInteger(options.maxTextBytes) || options.maxTextBytes < 0) {
      throw new RangeError(`maxTextBytes is ${options.maxTextBytes}; expected a non-negative integer`);
    }
  }

  /**
   * Scans the next chunk of the client stream. Returns a ScanError (SQLSTATE
   * 08P01) when the stream breaks the protocol, and the same error from every
   * later call.
   */
  scan(chunk: Buffer): ScanError | undefined {
    let position = 0;

    while (position < chunk.length && this.phase !== Phase.Failed) {
      position = this.phase === Phase.Header ? this.readHeader(chunk, position) : this.readBody(chunk, position);
    }

    this.streamOffset += chunk.length;
    return this.failure;
  }

  private readHeader(chunk: Buffer, position: number): number {
    if (this.headerBytes === 0) {
      this.messageOffset = this.streamOffset + position;
      if (!SESSION_CODES.has(chunk[position])) {
        this.fail(describeUnexpectedCode(chunk[position], this.messageOffset));
        return position;
      }
      // The common case, a whole header in the chunk, is read in place.
      if (chunk.length - position >= MESSAGE_HEADER_BYTES) {
        this.startBody(chunk[position], chunk.readInt32BE(position + 1));
        return position + MESSAGE_HEADER_BYTES;
      }
    }

    const copied = Math.min(MESSAGE_HEADER_BYTES - this.headerBytes, chunk.length - position);
    chunk.copy(this.header, this.headerBytes, position, position + copied);
    this.headerBytes += copied;
    if (this.headerBytes === MESSAGE_HEADER_BYTES) {
      this.headerBytes = 0;
      this.startBody(this.header[0], this.header.readInt32BE(1));
    }
    return position + copied;
  }

  private startBody(code: number, length: number): void {
    this.code = code;
    if (length < LENGTH_FIELD_BYTES) {
      this.fail(`frontend message '${String.fromCharCode(code)}' at byte ${this.messageOffset} declares length ${length}; expected at least ${LENGTH_FIELD_BYTES}`);
      return;
    }

    this.remainingBytes = length - LENGTH_FIELD_BYTES;
    this.phase = this.firstBodyPhase(code);
    if (code === FrontendCode.Terminate) {
      this.options.onTerminate?.();
    }
    if (this.remainingBytes === 0) {
      this.endMessage();
    }
  }

  private firstBodyPhase(code: number): Phase {
    if (code === FrontendCode.Bind && this.options.onBind) {
      this.startText(this.options.maxBindBytes ?? DEFAULT_MAX_BIND_BYTES);
      return Phase.BindBody;
    }
    if (code !== FrontendCode.Query && code !== FrontendCode.Parse) {
      return Phase.Skip;
    }

    this.startText(this.options.maxTextBytes);
    return code === FrontendCode.Query ? Phase.StatementText : Phase.StatementName;
  }

  private startText(maxBytes: number): void {
    this.text = undefined;
    this.textCapacity = Math.min(maxBytes, this.remainingBytes);
    this.textBytes = 0;
    this.truncated = false;
  }

  private readBody(chunk: Buffer, position: number): number {
    const end = position + Math.min(this.remainingBytes, chunk.length - position);
    let next = end;

    if (this.phase === Phase.StatementName) {
      next = this.skipStatementName(chunk, position, end);
    } else if (this.phase === Phase.StatementText) {
      next = this.copyStatementText(chunk, position, end);
    } else if (this.phase === Phase.BindBody) {
      this.appendText(chunk, position, end);
    }

    this.remainingBytes -= next - position;
    if (this.remainingBytes === 0) {
      this.endMessage();
    }
    return next;
  }

  private skipStatementName(chunk: Buffer, position: number, end: number): number {
    const terminator = findZero(chunk, position, end);
    if (terminator === -1) {
      return end;
    }

    this.phase = Phase.StatementText;
    return terminator + 1;
  }

  private copyStatementText(chunk: Buffer, position: number, end: number): number {
    const terminator = findZero(chunk, position, end);
    const textEnd = terminator === -1 ? end : terminator;

    // The common case, a whole statement in one chunk, is decoded in place.
    if (terminator !== -1 && this.textBytes === 0 && textEnd - position <= this.textCapacity) {
      this.phase = Phase.Skip;
      this.options.onStatement(chunk.toString('utf8', position, textEnd), false, this.protocol());
      return terminator + 1;
    }

    this.appendText(chunk, position, textEnd);
    if (terminator === -1) {
      return end;
    }

    this.phase = Phase.Skip;
    this.emitStatement();
    return terminator + 1;
  }

  private appendText(chunk: Buffer, start: number, end: number): void {
    const text = (this.text ??= Buffer.allocUnsafe(this.textCapacity));
    const copied = Math.min(end - start, text.length - this.textBytes);
    chunk.copy(text, this.textBytes, start, start + copied);
    this.textBytes += copied;
    if (copied < end - start) {
      this.truncated = true;
    }
  }

  private emitStatement(): void {
    const text = this.text ?? EMPTY;
    const length = this.truncated ? completeUtf8Length(text, this.textBytes) : this.textBytes;
    const truncated = this.truncated;

    this.text = undefined;
    this.options.onStatement(text.toString('utf8', 0, length), truncated, this.protocol());
  }

  private protocol(): 'simple' | 'extended' {
    return this.code === FrontendCode.Query ? 'simple' : 'extended';
  }

  private emitBind(): void {
    const body = (this.text ?? EMPTY).subarray(0, this.textBytes);
    const truncated = this.truncated;
    this.text = undefined;
    this.options.onBind?.(body, truncated);
  }

  private endMessage(): void {
    if (this.phase === Phase.StatementName || this.phase === Phase.StatementText) {
      const name = this.code === FrontendCode.Query ? 'Query' : 'Parse';
      this.fail(`${name} message at byte ${this.messageOffset} ends before the zero byte that terminates its query string`);
      return;
    }
    if (this.phase === Phase.BindBody) {
      this.emitBind();
    }

    this.phase = Phase.Header;
  }

  private fail(message: string): void {
    this.phase = Phase.Failed;
    this.text = undefined;
    this.failure = { sqlstate: PROTOCOL_VIOLATION, message };
  }
}

const EMPTY = Buffer.alloc(0);

function findZero(chunk: Buffer, start: number, end: number): number {
  const index = chunk.indexOf(0, start);
  return index !== -1 && index < end ? index : -1;
}

function describeUnexpectedCode(code: number, offset: number): string {
  const printable = code >= 0x21 && code <= 0x7e ? ` ('${String.fromCharCode(code)}')` : '';
  const codeText = `0x${code.toString(16).padStart(2, '0')}${printable}`;
  if (code === FrontendCode.Password) {
    return `frontend message type ${codeText} at byte ${offset} is a password or SASL response, which is not valid after authentication`;
  }
  return `unknown frontend message type ${codeText} at byte ${offset}; expected one of ${EXPECTED_CODES}`;
}
