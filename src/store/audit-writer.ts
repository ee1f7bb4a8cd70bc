// Writes connection and query records to the store in batches, away from
// the code path that carries a session's bytes. Records wait in a bounded
// in-memory queue until a timer, or a full batch, starts a write.

import { SdmError } from '../errors.js';
import type { ConnectionRecord, QueryEntry, Store } from './types.js';

export { startRetention, pruneExpiredLogs, type Clock, type RetentionOptions } from './log-retention.js';

export const DEFAULT_FLUSH_INTERVAL_MS = 200;
export const DEFAULT_MAX_BATCH = 500;
export const DEFAULT_MAX_QUEUED = 10_000;
/** 16 Mi characters: 16 to 32 MiB, as V8 keeps one or two bytes a character. */
export const DEFAULT_MAX_QUEUED_TEXT = 16 * 1024 * 1024;

export interface AuditWriterOptions {
  /** Time a queued record waits, at most, before a write starts. */
  flushIntervalMs?: number;
  /** Records per store call, and so per transaction. A full batch starts a write at once. */
  maxBatch?: number;
  /** Records the queue holds, connections and queries together. */
  maxQueued?: number;
  /**
   * Characters of statement text and bound values the queued queries hold.
   * A statement keeps up to 64 KiB of text, so the record count alone would
   * let the queue grow to several hundred MiB while writes lag.
   */
  maxQueuedText?: number;
  /** Receives each failed write; the records of that batch are lost. Errors it throws are ignored. */
  onError?(error: Error): void;
  /** Receives how many records were dropped since the last report, after each write. Errors it throws are ignored. */
  onDropped?(count: number): void;
}

/** A batch of audit records the store failed to write. */
export class AuditWriteError extends SdmError {
  constructor(kind: 'connection' | 'query', count: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('audit_write_failed', `failed to write ${count} ${kind} records to the audit log: ${reason}`, {
      cause,
      hint: 'check that the data directory is writable and has free space',
    });
  }
}

/**
 * Queues audit records and writes them in batches. When the queue is full,
 * by count or by text, a new query record is dropped and counted. A new connection record takes
 * the place of the oldest queued query record instead, because a session's
 * connection record matters more than one of its statements. A connection
 * record whose id is already queued replaces the queued one.
 */
export class AuditWriter {
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;
  private readonly maxQueued: number;
  private readonly maxQueuedText: number;
  private queuedText = 0;
  private readonly connections = new Map<string, ConnectionRecord>();
  private queries: QueryEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerIsImmediate = false;
  private writing: Promise<void> = Promise.resolve();
  private droppedSinceReport = 0;
  private droppedTotal = 0;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly options: AuditWriterOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.maxBatch = Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH);
    this.maxQueued = Math.max(1, options.maxQueued ?? DEFAULT_MAX_QUEUED);
    this.maxQueuedText = Math.max(1, options.maxQueuedText ?? DEFAULT_MAX_QUEUED_TEXT);
  }

  /** Records dropped since the writer started, because the queue was full or the writer closed. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Records waiting to be written. */
  get queued(): number {
    return this.connections.size + this.queries.length;
  }

  connection(record: ConnectionRecord): void {
    if (this.closed) {
      this.drop(1);
      return;
    }

    if (!this.connections.has(record.id) && this.queued >= this.maxQueued) {
      if (this.queries.length === 0) {
        this.drop(1);
        return;
      }
      this.queuedText -= textLength(this.queries.shift()!);
      this.drop(1);
    }

    this.connections.set(record.id, record);
    this.schedule(this.connections.size >= this.maxBatch);
  }

  query(entry: QueryEntry): void {
    const length = textLength(entry);
    if (this.closed || this.queued >= this.maxQueued || this.queuedText + length > this.maxQueuedText) {
      this.drop(1);
      return;
    }

    this.queuedText += length;
    this.queries.push(entry);
    // A quarter of the text bound starts a write at once, as a full batch
    // does, so that a burst of long statements is not dropped while the
    // timer waits.
    this.schedule(this.queries.length >= this.maxBatch || this.queuedText >= this.maxQueuedText / 4);
  }

  /** Writes every record queued at the time of the call; resolves when they are stored or reported as failed. */
  flush(): Promise<void> {
    this.clearTimer();
    this.writing = this.writing.then(() => this.drain());
    return this.writing;
  }

  /** Writes everything still queued and stops the timer. Records given after this are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    this.clearTimer();
  }

  private schedule(batchIsFull: boolean): void {
    if (this.timer !== null && (this.timerIsImmediate || !batchIsFull)) {
      return;
    }

    this.clearTimer();
    this.timerIsImmediate = batchIsFull;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, batchIsFull ? 0 : this.flushIntervalMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  // NOTE: the SQLite store writes on the caller's thread, so in the node each
  // batch runs on the thread that relays bytes. It stores a batch of queries
  // as one row, about 1 µs a statement, and a worker-thread writer that was
  // tried gave no gain on 2 CPUs and cost 15 MiB, so the writes stay here.
  //
  // Drains only as many batches as were queued when it started, so a
  // steady stream of new records cannot keep one flush from finishing.
  private async drain(): Promise<void> {
    const rounds = Math.ceil(Math.max(this.connections.size, this.queries.length) / this.maxBatch);

    for (let round = 0; round < rounds; round += 1) {
      await this.writeConnectionBatch();
      await this.writeQueryBatch();
    }

    this.reportDropped();
    if (this.queued > 0 && !this.closed) {
      this.schedule(false);
    }
  }

  private async writeConnectionBatch(): Promise<void> {
    const batch: ConnectionRecord[] = [];
    for (const [id, record] of this.connections) {
      if (batch.length >= this.maxBatch) {
        break;
      }
      batch.push(record);
      this.connections.delete(id);
    }

    if (batch.length > 0) {
      await this.write('connection', batch.length, () => this.store.writeConnections(batch));
    }
  }

  private async writeQueryBatch(): Promise<void> {
    const batch = this.queries.splice(0, this.maxBatch);
    for (const entry of batch) {
      this.queuedText -= textLength(entry);
    }
    if (batch.length > 0) {
      await this.write('query', batch.length, () => this.store.writeQueries(batch));
    }
  }

  private async write(kind: 'connection' | 'query', count: number, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      const failure = new AuditWriteError(kind, count, error);
      callSafely(() => this.options.onError?.(failure));
    }
  }

  private drop(count: number): void {
    this.droppedSinceReport += count;
    this.droppedTotal += count;

    // After close no write comes to report the drop, so it is reported now.
    if (this.closed) {
      this.reportDropped();
    }
  }

  private reportDropped(): void {
    if (this.droppedSinceReport > 0) {
      const count = this.droppedSinceReport;
      this.droppedSinceReport = 0;
      callSafely(() => this.options.onDropped?.(count));
    }
  }
}

/** Characters of an entry's text and bound values. */
function textLength(entry: QueryEntry): number {
  let length = entry.text.length;
  if (entry.parameters) {
    for (const value of entry.parameters) {
      length += value?.length ?? 0;
    }
  }
  return length;
}

// A callback that throws must not break the chain of writes, and there is
// nowhere left to report its error, so the error is ignored.
function callSafely(callback: () => void): void {
  try {
    callback();
  } catch {
    // Ignored on purpose: see above.
  }
}
