import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditWriteError, AuditWriter } from '../../src/store/audit-writer.js';
import type { ConnectionRecord, QueryEntry, Store } from '../../src/store/types.js';
import { openTempStore, type TempStore } from './temp-store.js';

/** Long enough that no timer fires during a test that flushes by hand. */
const NEVER_MS = 3_600_000;

let temp: TempStore;
let store: Store;

beforeEach(async () => {
  temp = await openTempStore();
  store = temp.store;
});

afterEach(async () => {
  await temp.cleanup();
});

function query(text: string): QueryEntry {
  return {
    time: '2025-03-01T10:00:00.000Z',
    sessionId: 's1',
    text,
    truncated: false,
    protocol: 'simple',
  };
}

function connection(id: string, outcome: ConnectionRecord['outcome'] = 'open'): ConnectionRecord {
  return {
    id,
    startedAt: '2025-03-01T10:00:00.000Z',
    endedAt: outcome === 'open' ? null : '2025-03-01T10:01:00.000Z',
    user: 'alice@example.com',
    resource: 'orders',
    database: 'orders',
    clientAddress: null,
    outcome,
    error: null,
    bytesToServer: 1,
    bytesToClient: 2,
  };
}

async function storedTexts(): Promise<string[]> {
  return (await store.listQueries({ limit: 10_000 })).map((record) => record.text);
}

describe('AuditWriter batching', () => {
  it('1000 queries in few transactions', async () => {
    const writeQueries = vi.spyOn(store, 'writeQueries');
    const writer = new AuditWriter(store);

    for (let index = 0; index < 1000; index += 1) {
      writer.query(query(`select ${index}`));
    }
    expect(writeQueries).not.toHaveBeenCalled();

    await vi.waitFor(() => expect(writeQueries).toHaveBeenCalled());
    await writer.close();

    const sizes = writeQueries.mock.calls.map(([records]) => records.length);
    expect(writeQueries.mock.calls.length).toBeLessThanOrEqual(3);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(1000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(500);
    expect(await storedTexts()).toHaveLength(1000);
  });

  it('batches of maxBatch', async () => {
    const writeQueries = vi.spyOn(store, 'writeQueries');
    const writer = new AuditWriter(store, { maxBatch: 2, flushIntervalMs: NEVER_MS });

    for (const text of ['a', 'b', 'c', 'd', 'e']) {
      writer.query(query(text));
    }
    await writer.close();

    expect(writeQueries.mock.calls.map(([records]) => records.length)).toEqual([2, 2, 1]);
    expect(await storedTexts()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('timer writes without flush', async () => {
    const writer = new AuditWriter(store, { flushIntervalMs: 10 });

    writer.query(query('select 1'));

    await vi.waitFor(async () => expect(await storedTexts()).toEqual(['select 1']));
    await writer.close();
  });

  it('close flushes queued records', async () => {
    const writer = new AuditWriter(store, { flushIntervalMs: NEVER_MS });

    writer.connection(connection('c1'));
    writer.query(query('select 1'));
    writer.query(query('select 2'));
    await writer.close();

    expect(await storedTexts()).toEqual(['select 1', 'select 2']);
    expect((await store.listConnections({})).map((record) => record.id)).toEqual(['c1']);
    expect(writer.queued).toBe(0);
  });

  it('records after close are dropped', async () => {
    const onDropped = vi.fn();
    const writer = new AuditWriter(store, { onDropped });
    await writer.close();

    writer.query(query('late'));

    expect(writer.dropped).toBe(1);
    expect(onDropped).toHaveBeenCalledWith(1);
    expect(await storedTexts()).toEqual([]);
  });
});

describe('AuditWriter queue bound', () => {
  it('full queue drops and counts queries', async () => {
    const onDropped = vi.fn();
    const writer = new AuditWriter(store, { maxQueued: 10, flushIntervalMs: NEVER_MS, onDropped });

    for (let index = 0; index < 15; index += 1) {
      writer.query(query(`q${index}`));
    }
    expect(writer.dropped).toBe(5);
    expect(writer.queued).toBe(10);

    await writer.flush();

    expect(onDropped).toHaveBeenCalledTimes(1);
    expect(onDropped).toHaveBeenCalledWith(5);
    expect(await storedTexts()).toEqual(['q0', 'q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7', 'q8', 'q9']);
    await writer.close();
  });

  it('text bound drops queries and frees on write', async () => {
    const writer = new AuditWriter(store, { maxQueuedText: 10, flushIntervalMs: NEVER_MS });

    writer.query(query('abcd'));
    writer.query({ ...query('ef'), parameters: ['gh', null, 'ij'] });
    writer.query(query('klm'));
    expect(writer.dropped).toBe(1);
    expect(writer.queued).toBe(2);

    await writer.flush();
    writer.query(query('0123456789'));
    writer.query(query('0123456789a'));
    await writer.close();

    expect(writer.dropped).toBe(2);
    expect(await storedTexts()).toEqual(['abcd', 'ef', '0123456789']);
  });

  it('quarter of text bound starts a write', async () => {
    const writeQueries = vi.spyOn(store, 'writeQueries');
    const writer = new AuditWriter(store, { maxQueuedText: 40, flushIntervalMs: NEVER_MS });

    writer.query(query('012345678'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(writeQueries).not.toHaveBeenCalled();

    writer.query(query('9'));
    await vi.waitFor(() => expect(writeQueries).toHaveBeenCalledTimes(1));
    expect(await storedTexts()).toEqual(['012345678', '9']);
    await writer.close();
  });

  it('evicted query frees its text', async () => {
    const writer = new AuditWriter(store, { maxQueued: 2, maxQueuedText: 8, flushIntervalMs: NEVER_MS });

    writer.query(query('abcd'));
    writer.query(query('efgh'));
    writer.connection(connection('c1'));
    await writer.flush();
    writer.query(query('01234567'));
    await writer.close();

    expect(writer.dropped).toBe(1);
    expect(await storedTexts()).toEqual(['efgh', '01234567']);
  });

  it('connection replaces queued record with same id', async () => {
    const writeConnections = vi.spyOn(store, 'writeConnections');
    const writer = new AuditWriter(store, { flushIntervalMs: NEVER_MS });

    writer.connection(connection('c1', 'open'));
    writer.connection(connection('c1', 'closed'));
    await writer.close();

    expect(writeConnections).toHaveBeenCalledTimes(1);
    expect(writeConnections.mock.calls[0][0]).toHaveLength(1);
    expect((await store.listConnections({}))[0].outcome).toBe('closed');
  });

  it('connection evicts oldest query when full', async () => {
    const writer = new AuditWriter(store, { maxQueued: 3, flushIntervalMs: NEVER_MS });

    writer.query(query('q1'));
    writer.query(query('q2'));
    writer.query(query('q3'));
    writer.connection(connection('c1'));
    await writer.close();

    expect(writer.dropped).toBe(1);
    expect(await storedTexts()).toEqual(['q2', 'q3']);
    expect((await store.listConnections({})).map((record) => record.id)).toEqual(['c1']);
  });

  it('connection dropped when queue holds only connections', async () => {
    const writer = new AuditWriter(store, { maxQueued: 1, flushIntervalMs: NEVER_MS });

    writer.connection(connection('c1'));
    writer.connection(connection('c2'));
    writer.connection(connection('c1', 'closed'));
    await writer.close();

    expect(writer.dropped).toBe(1);
    expect(await store.listConnections({})).toMatchObject([{ id: 'c1', outcome: 'closed' }]);
  });
});

describe('AuditWriter failures', () => {
  it('failed write reported and next write works', async () => {
    const onError = vi.fn();
    vi.spyOn(store, 'writeQueries').mockRejectedValueOnce(new Error('disk I/O error'));
    const writer = new AuditWriter(store, { flushIntervalMs: NEVER_MS, onError });

    writer.query(query('lost'));
    await writer.flush();
    writer.query(query('kept'));
    await writer.close();

    const error = onError.mock.calls[0][0] as AuditWriteError;
    expect(onError).toHaveBeenCalledTimes(1);
    expect(error).toBeInstanceOf(AuditWriteError);
    expect(error.code).toBe('audit_write_failed');
    expect(error.message).toContain('1 query records');
    expect(error.message).toContain('disk I/O error');
    expect(await storedTexts()).toEqual(['kept']);
  });

  it('throwing callback keeps writer working', async () => {
    vi.spyOn(store, 'writeQueries').mockRejectedValueOnce(new Error('disk I/O error'));
    const writer = new AuditWriter(store, {
      flushIntervalMs: NEVER_MS,
      onError: () => {
        throw new Error('callback failed');
      },
    });

    writer.query(query('lost'));
    await writer.flush();
    writer.query(query('kept'));
    await writer.close();

    expect(await storedTexts()).toEqual(['kept']);
  });
});
