const HEADER_BYTES = 5;
const LENGTH_FIELD_BYTES = 4;

/**
 * Follows a stream of backend messages by header only, to know where one
 * message ends and the next begins. It never copies or decodes a body: it
 * reads the 4-byte length after each type byte and skips that many bytes.
 * The node needs this to end a session with its own ErrorResponse without
 * cutting a server message in half.
 */
export class MessageBoundaryTracker {
  private headerSeen = 0;
  private pendingLength = 0;
  private remaining = 0;
  broken = false;

  atBoundary(): boolean {
    return this.headerSeen === 0 && this.remaining === 0;
  }

  /**
   * Advances over `chunk` from `start`. With `stopAtBoundary`, returns the
   * offset of the first message boundary at or after `start`; otherwise
   * consumes the chunk and returns its length.
   */
  advance(chunk: Buffer, stopAtBoundary = false, start = 0): number {
    let offset = start;

    while (offset < chunk.length && !this.broken) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= take;
        offset += take;
        continue;
      }
      if (this.headerSeen === 0 && stopAtBoundary) {
        return offset;
      }
      if (this.headerSeen === 0 && offset + HEADER_BYTES <= chunk.length) {
        this.startBody(chunk.readUInt32BE(offset + 1));
        offset += HEADER_BYTES;
        continue;
      }
      offset = this.readHeaderByte(chunk, offset);
    }

    return offset;
  }

  private readHeaderByte(chunk: Buffer, offset: number): number {
    if (this.headerSeen > 0) {
      this.pendingLength = this.pendingLength * 256 + chunk[offset];
    }
    this.headerSeen += 1;
    if (this.headerSeen === HEADER_BYTES) {
      this.headerSeen = 0;
      this.startBody(this.pendingLength);
      this.pendingLength = 0;
    }
    return offset + 1;
  }

  private startBody(length: number): void {
    if (length < LENGTH_FIELD_BYTES) {
      this.broken = true;
      return;
    }
    this.remaining = length - LENGTH_FIELD_BYTES;
  }
}
