import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { ConnectionRecord, QueryRecord, Store } from './types.js';

/** What the audit writer needs of a store: the two batch writes. */
export type LogSink = Pick<Store, 'writeConnections' | 'writeQueries'>;

export type LogWriteRequest =
  | { id: number; kind: 'connections'; records: ConnectionRecord[] }
  | { id: number; kind: 'queries'; records: QueryRecord[] }
  | { id: number; kind: 'close' };

export type LogWriteReply = { id: number; ok: true } | { id: number; ok: false; message: string };

type Pending = { resolve(): void; reject(error: Error): void };

/**
 * Writes audit batches to the SQLite file from a worker thread. Each call
 * posts one batch and resolves when the worker has committed it.
 */
export class WorkerLogSink implements LogSink {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure?: Error;

  constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (reply: LogWriteReply) => this.settle(reply));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => this.failAll(new Error(`the audit log writer thread exited with code ${code}`)));
  }

  writeConnections(records: ConnectionRecord[]): Promise<void> {
    return this.send({ id: this.nextId++, kind: 'connections', records });
  }

  writeQueries(records: QueryRecord[]): Promise<void> {
    return this.send({ id: this.nextId++, kind: 'queries', records });
  }

  /** Closes the worker's store connection, then ends the thread. */
  async close(): Promise<void> {
    if (!this.failure) {
      await this.send({ id: this.nextId++, kind: 'close' }).catch(() => undefined);
    }
    await this.worker.terminate();
  }

  private send(request: LogWriteRequest): Promise<void> {
    if (this.failure) {
      return Promise.reject(this.failure);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.worker.postMessage(request);
    });
  }

  private settle(reply: LogWriteReply): void {
    const waiter = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (reply.ok) {
      waiter?.resolve();
    } else {
      waiter?.reject(new Error(reply.message));
    }
  }

  private failAll(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.pending.values()) {
      waiter.reject(this.failure);
    }
    this.pending.clear();
  }
}

/**
 * Starts the log writer thread for the store file, or returns undefined when
 * the compiled worker script is not there (the sources run under a test
 * runner), in which case the caller writes on its own thread.
 */
export async function startWorkerLogSink(storePath: string): Promise<WorkerLogSink | undefined> {
  const script = new URL('./log-writer-worker.js', import.meta.url);
  if (!fs.existsSync(fileURLToPath(script))) {
    return undefined;
  }

  const worker = new Worker(script, { workerData: { path: storePath } });
  await new Promise<void>((resolve, reject) => {
    worker.once('online', () => resolve());
    worker.once('error', reject);
  });
  return new WorkerLogSink(worker);
}
