// Deletes audit records older than the node's retention period, once at
// start and then once an hour.

import { ValidationError } from '../errors.js';
import type { Store } from './types.js';
import { quoteValue } from './value-text.js';

export const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
export const MS_PER_DAY = 24 * 60 * 60 * 1000;

/** Current time in milliseconds since the Unix epoch. */
export type Clock = () => number;

export interface RetentionOptions {
  /** Time between prunes; one hour unless a test sets it. */
  intervalMs?: number;
  /** Receives how many records each prune deleted. */
  onPruned?(count: number): void;
  /** Receives a failed prune; the next one runs on schedule. */
  onError?(error: Error): void;
}

/** Deletes log records older than `retentionDays` before the clock's time; returns how many went. */
export async function pruneExpiredLogs(store: Store, retentionDays: number, clock: Clock): Promise<number> {
  const before = new Date(clock() - retentionDays * MS_PER_DAY).toISOString();
  return store.pruneLogs(before);
}

/**
 * Prunes the logs now and then every `intervalMs`, skipping a run while the
 * previous one is still going. Returns a function that stops the schedule.
 * The timer is unreferenced, so it never keeps the process alive.
 */
export function startRetention(store: Store, retentionDays: number, clock: Clock, options: RetentionOptions = {}): () => void {
  if (typeof retentionDays !== 'number' || !Number.isFinite(retentionDays) || retentionDays <= 0) {
    throw new ValidationError('retentionDays', `invalid retentionDays ${quoteValue(retentionDays)}: expected a number of days greater than 0`);
  }

  let running = false;
  const run = (): void => {
    if (running) {
      return;
    }
    running = true;
    pruneExpiredLogs(store, retentionDays, clock)
      .then((count) => options.onPruned?.(count))
      .catch((error: unknown) => options.onError?.(error instanceof Error ? error : new Error(String(error))))
      .finally(() => {
        running = false;
      });
  };

  run();
  const timer = setInterval(run, options.intervalMs ?? RETENTION_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
