import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { MS_PER_DAY, pruneExpiredLogs, RETENTION_INTERVAL_MS, startRetention } from '../../src/store/log-retention.js';
import type { QueryEntry, Store } from '../../src/store/types.js';
import { openTempStore, type TempStore } from './temp-store.js';

const NOW_MS = Date.parse('2025-03-31T00:00:00.000Z');
const clock = () => NOW_MS;

let temp: TempStore;
let store: Store;

beforeEach(async () => {
  temp = await openTempStore();
  store = temp.store;
});

afterEach(async () => {
  vi.useRealTimers();
  await temp.cleanup();
});

function query(text: string, time: string): QueryEntry {
  return { time, sessionId: 's1', text, truncated: false, protocol: 'simple' };
}

describe('pruneExpiredLogs', () => {
  it('removes records past retention', async () => {
    await store.writeQueries([query('old', '2025-02-01T00:00:00.000Z'), query('recent', '2025-03-30T00:00:00.000Z')]);

    const pruned = await pruneExpiredLogs(store, 30, clock);

    expect(pruned).toBe(1);
    expect((await store.listQueries({})).map((record) => record.text)).toEqual(['recent']);
  });
});

describe('startRetention', () => {
  it('prunes at start and hourly', async () => {
    vi.useFakeTimers();
    const pruneLogs = vi.spyOn(store, 'pruneLogs');
    const onPruned = vi.fn();

    const stop = startRetention(store, 7, clock, { onPruned });
    expect(pruneLogs).toHaveBeenCalledTimes(1);
    expect(pruneLogs).toHaveBeenCalledWith(new Date(NOW_MS - 7 * MS_PER_DAY).toISOString());

    await vi.advanceTimersByTimeAsync(RETENTION_INTERVAL_MS);
    expect(pruneLogs).toHaveBeenCalledTimes(2);
    expect(onPruned).toHaveBeenCalledWith(0);

    stop();
    await vi.advanceTimersByTimeAsync(RETENTION_INTERVAL_MS * 2);
    expect(pruneLogs).toHaveBeenCalledTimes(2);
  });

  it('reports a failed prune', async () => {
    vi.spyOn(store, 'pruneLogs').mockRejectedValueOnce(new Error('database is locked'));
    const onError = vi.fn();

    const stop = startRetention(store, 7, clock, { onError });
    await vi.waitFor(() => expect(onError).toHaveBeenCalledTimes(1));
    stop();

    expect((onError.mock.calls[0][0] as Error).message).toBe('database is locked');
  });

  it('invalid retention days', () => {
    expect(() => startRetention(store, 0, clock)).toThrow(ValidationError);
    expect(() => startRetention(store, Number.NaN, clock)).toThrow(/retentionDays/);
  });
});
