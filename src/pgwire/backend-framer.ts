import { LENGTH_FIELD_BYTES, MESSAGE_HEADER_BYTES } from './constants.js';
import { WireError } from './wire-error.js';

export { WireError } from './wire-error.js';

/** Default cap on the declared length of one server message during startup; 1 MiB. */
export const DEFAULT_MAX_BACKEND_MESSAGE_BYTES = 1024 * 1024;

export interface BackendFramerOptions {
  /** Largest declared message length accepted (the length field counts itself, not the type byte). */
  maxMessageBytes?: number;
}

export interface FramedMessage {
  /** The type byte as a one-character string, such as 'R' or 'E'. */
  code: string;
  /** The message after its 5-byte header. */
  body: Buffer;
  /** The whole message, header included, to forward unchanged. */
  raw: Buffer;
}

/**
 * Splits the server's byte stream into messages while the node reads the
 * server's side of startup (authentication requests, ParameterStatus,
 * BackendKeyData, ReadyForQuery). Once the caller switches to piping raw
 * bytes, rest() hands over whatever arrived past the last message read.
 */
export class BackendFramer {
  private readonly maxMessageBytes: number;
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;

  constructor(options: BackendFramerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_BACKEND_MESSAGE_BYTES;
    if (!Number.isInteger(this.maxMessageBytes) || this.maxMessageBytes < LENGTH_FIELD_BYTES) {
      throw new RangeError(`maxMessageBytes is ${this.maxMessageBytes}; expected an integer of at least ${LENGTH_FIELD_BYTES}`);
    }
  }

  /** Appends bytes read from the server. */
  push(chunk: Buffer): void {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.bufferedBytes += chunk.length;
    }
  }

  /**
   * Returns the next complete message, or undefined until one has arrived.
   * Throws WireError as soon as a header declares a length below 4 or above
   * `maxMessageBytes`, before the body is buffered.
   */
  next(): FramedMessage | undefined {
    if (this.bufferedBytes < MESSAGE_HEADER_BYTES) {
      return undefined;
    }

    const header = this.peekHeader();
    const length = header.readInt32BE(1);
    this.checkLength(header[0], length);
    if (this.bufferedBytes < 1 + length) {
      return undefined;
    }

    const raw = this.take(1 + length);
    return { code: String.fromCharCode(raw[0]), body: raw.subarray(MESSAGE_HEADER_BYTES), raw };
  }

  /** Returns every byte not yet returned by next() and empties the framer. */
  rest(): Buffer {
    const rest = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.bufferedBytes);
    this.chunks = [];
    this.bufferedBytes = 0;
    return rest;
  }

  private checkLength(code: number, length: number): void {
    if (length >= LENGTH_FIELD_BYTES && length <= this.maxMessageBytes) {
      return;
    }

    const codeText = code >= 0x21 && code <= 0x7e ? `'${String.fromCharCode(code)}'` : `0x${code.toString(16).padStart(2, '0')}`;
    throw new WireError(
      `server message ${codeText} declares length ${length}; expected ${LENGTH_FIELD_BYTES}..${this.maxMessageBytes} bytes`,
      { hint: 'Check that the host and port point at a PostgreSQL server.' },
    );
  }

  // Merges leading chunks until the first one contains a whole header.
  private peekHeader(): Buffer {
    if (this.chunks[0].length < MESSAGE_HEADER_BYTES) {
      this.mergeLeadingChunks(MESSAGE_HEADER_BYTES);
    }
    return this.chunks[0];
  }

  private take(byteCount: number): Buffer {
    if (this.chunks[0].length < byteCount) {
      this.mergeLeadingChunks(byteCount);
    }

    const first = this.chunks[0];
    const message = first.subarray(0, byteCount);
    if (first.length === byteCount) {
      this.chunks.shift();
    } else {
      this.chunks[0] = first.subarray(byteCount);
    }
    this.bufferedBytes -= byteCount;
    return message;
  }

  private mergeLeadingChunks(byteCount: number): void {
    let merged = 0;
    let count = 0;
    while (merged < byteCount) {
      merged += this.chunks[count].length;
      count += 1;
    }
    this.chunks.splice(0, count, Buffer.concat(this.chunks.slice(0, count), merged));
  }
}
