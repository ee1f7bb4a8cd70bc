import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ValidationError } from '../../src/errors.js';
import { MAX_BATCH_TEXT_LENGTH } from '../../src/store/sqlite-query-log.js';
import type { QueryEntry, Store } from '../../src/store/types.js';
import { connectionRecord as connection, openTempStore, type TempStore } from './temp-store.js';

let temp: TempStore;
let store: Store;

beforeEach(async () => {
  temp = await openTempStore();
  store = temp.store;
});

afterEach(async () => {
  await temp.cleanup();
});

function query(text: string, overrides: Partial<QueryEntry> = {}): QueryEntry {
  return {
    time: '2025-03-01T10:00:00.000Z',
    sessionId: 's1',
    text,
    truncated: false,
    protocol: 'simple',
    ...overrides,
  };
}

describe('connection log', () => {
  it('write and list', async () => {
    await store.writeConnections([connection('c1')]);

    const [record] = await store.listConnections({});
    expect(record).toMatchObject(connection('c1'));
    expect(typeof record.rowId).toBe('number');
  });

  it('rewrite replaces by id', async () => {
    await store.writeConnections([connection('c1')]);
    const [first] = await store.listConnections({});

    await store.writeConnections([connection('c1', { outcome: 'closed', endedAt: '2025-03-01T10:05:00.000Z', bytesToServer: 10, bytesToClient: 20 })]);
    const records = await store.listConnections({});

    expect(records).toHaveLength(1);
    expect(records[0].outcome).toBe('closed');
    expect(records[0].bytesToClient).toBe(20);
    expect(records[0].rowId).toBeGreaterThan(first.rowId);
  });

  it('times stored as UTC ISO', async () => {
    await store.writeConnections([connection('c1', { startedAt: '2025-03-01T12:00:00+02:00' })]);

    const [record] = await store.listConnections({});
    expect(record.startedAt).toBe('2025-03-01T10:00:00.000Z');
  });

  it('invalid time rejects whole batch', async () => {
    const error = await store.writeConnections([connection('c1'), connection('c2', { startedAt: 'yesterday' })]).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('startedAt');
    expect(await store.listConnections({})).toEqual([]);
  });

  it('connections filtered by time and user', async () => {
    await store.writeConnections([
      connection('c1', { startedAt: '2025-03-01T09:00:00.000Z' }),
      connection('c2', { startedAt: '2025-03-01T10:00:00.000Z', user: 'bob@example.com' }),
      connection('c3', { startedAt: '2025-03-01T11:00:00.000Z', user: null, outcome: 'refused' }),
    ]);

    const ids = async (logQuery: Parameters<Store['listConnections']>[0]) => (await store.listConnections(logQuery)).map((record) => record.id);
    expect(await ids({ since: '2025-03-01T09:30:00Z' })).toEqual(['c2', 'c3']);
    expect(await ids({ user: 'bob@example.com' })).toEqual(['c2']);
    expect(await ids({ resource: 'billing' })).toEqual([]);
  });
});

describe('log queries', () => {
  beforeEach(async () => {
    await store.writeConnections([
      connection('s1'),
      connection('s2', { resource: 'billing', database: 'billing' }),
      connection('s3', { user: 'bob@example.com' }),
    ]);
    await store.writeQueries([
      query('select 1', { time: '2025-03-01T09:00:00.000Z' }),
      query('select 2', { time: '2025-03-01T10:00:00.000Z', sessionId: 's2' }),
      query('select 3', { time: '2025-03-01T11:00:00.000Z', sessionId: 's3' }),
      query('select 4', { time: '2025-03-01T12:00:00.000Z', truncated: true, protocol: 'extended' }),
    ]);
  });

  async function texts(logQuery: Parameters<Store['listQueries']>[0]): Promise<string[]> {
    return (await store.listQueries(logQuery)).map((record) => record.text);
  }

  it('all, oldest first', async () => {
    expect(await texts({})).toEqual(['select 1', 'select 2', 'select 3', 'select 4']);
  });

  it('fields round-trip', async () => {
    const records = await store.listQueries({});

    expect(records[3]).toMatchObject({ truncated: true, protocol: 'extended', sessionId: 's1', database: 'orders' });
  });

  it('session fields come from the connection record', async () => {
    const records = await store.listQueries({});

    expect(records.map(({ user, resource, database }) => [user, resource, database])).toEqual([
      ['alice@example.com', 'orders', 'orders'],
      ['alice@example.com', 'billing', 'billing'],
      ['bob@example.com', 'orders', 'orders'],
      ['alice@example.com', 'orders', 'orders'],
    ]);
  });

  it('statement without its connection record listed with empty session fields', async () => {
    await store.writeQueries([query('select 5', { time: '2025-03-01T13:00:00.000Z', sessionId: 'lost' })]);

    const [record] = await store.listQueries({ since: '2025-03-01T13:00:00Z' });
    expect(record).toMatchObject({ text: 'select 5', sessionId: 'lost', user: '', resource: '', database: '' });
    expect(await texts({ user: 'alice@example.com', since: '2025-03-01T12:30:00Z' })).toEqual([]);
  });

  it('since inclusive', async () => {
    expect(await texts({ since: '2025-03-01T10:00:00Z' })).toEqual(['select 2', 'select 3', 'select 4']);
  });

  it('until exclusive', async () => {
    expect(await texts({ until: '2025-03-01T11:00:00Z' })).toEqual(['select 1', 'select 2']);
  });

  it('since and until with offset', async () => {
    expect(await texts({ since: '2025-03-01T11:00:00+01:00', until: '2025-03-01T13:00:00+01:00' })).toEqual(['select 2', 'select 3']);
  });

  it('rejects since after until', async () => {
    await expect(texts({ since: '2025-03-01T13:00:00Z', until: '2025-03-01T11:00:00Z' })).rejects.toThrow(/until 2025-03-01T11:00:00.000Z is before since 2025-03-01T13:00:00.000Z/);
  });

  it('by resource', async () => {
    expect(await texts({ resource: 'billing' })).toEqual(['select 2']);
  });

  it('by user ignoring case', async () => {
    expect(await texts({ user: 'BOB@example.com' })).toEqual(['select 3']);
  });

  it('after id', async () => {
    const all = await store.listQueries({});

    expect(await texts({ afterId: all[1].rowId })).toEqual(['select 3', 'select 4']);
  });

  it('after id with limit takes next rows', async () => {
    const all = await store.listQueries({});

    expect(await texts({ afterId: all[0].rowId, limit: 2 })).toEqual(['select 2', 'select 3']);
  });

  it('limit takes newest rows', async () => {
    expect(await texts({ limit: 2 })).toEqual(['select 3', 'select 4']);
  });

  it('combined filters', async () => {
    expect(await texts({ user: 'alice@example.com', resource: 'orders', since: '2025-03-01T09:30:00Z' })).toEqual(['select 4']);
  });

  it('listings across many batches match a plain filter of every statement', async () => {
    const written: string[] = [];
    for (let batch = 0; batch < 40; batch += 1) {
      const entries = [0, 1, 2].map((index) => {
        const text = `batch ${batch} statement ${index}`;
        written.push(text);
        return query(text, { time: new Date(Date.UTC(2025, 3, 1, 0, batch, index)).toISOString(), sessionId: (batch + index) % 7 === 0 ? 's3' : 's1' });
      });
      await store.writeQueries(entries);
    }
    const all = await store.listQueries({ since: '2025-04-01T00:00:00Z', limit: 1000 });
    expect(all.map((record) => record.text)).toEqual(written);
    expect(new Set(all.map((record) => record.rowId)).size).toBe(written.length);
    expect(all.map((record) => record.rowId)).toEqual([...all.map((record) => record.rowId)].sort((a, b) => a - b));

    const bobs = all.filter((record) => record.user === 'bob@example.com');
    expect(await store.listQueries({ user: 'bob@example.com', since: '2025-04-01T00:00:00Z', limit: 5 })).toEqual(bobs.slice(-5));
    expect(await store.listQueries({ user: 'bob@example.com', afterId: all[10].rowId, limit: 4 })).toEqual(
      bobs.filter((record) => record.rowId > all[10].rowId).slice(0, 4),
    );
    expect(await store.listQueries({ afterId: all[100].rowId })).toEqual(all.slice(101));
    expect(await store.listQueries({ since: '2025-04-01T00:10:00Z', until: '2025-04-01T00:12:01Z' })).toEqual(all.slice(30, 37));
  });

  it('user filter skips batches of other sessions', async () => {
    await store.writeConnections([connection('s4', { user: 'carol@example.com', startedAt: '2025-05-01T00:00:00.000Z', endedAt: '2025-05-01T01:00:00.000Z', outcome: 'closed' })]);
    await store.writeQueries([query('carol 1', { time: '2025-05-01T00:30:00.000Z', sessionId: 's4' }), query('alice 1', { time: '2025-05-01T00:31:00.000Z' })]);
    await store.writeQueries([query('select \'"s4"\'', { time: '2025-05-02T00:00:00.000Z', sessionId: 's3' })]);
    await store.writeQueries([query('carol 2', { time: '2025-05-01T00:59:00.000Z', sessionId: 's4' })]);

    expect(await texts({ user: 'CAROL@example.com' })).toEqual(['carol 1', 'carol 2']);
    expect(await texts({ user: 'carol@example.com', afterId: 0, limit: 1 })).toEqual(['carol 1']);
    expect(await texts({ user: 'bob@example.com', since: '2025-05-01T00:00:00Z' })).toEqual(['select \'"s4"\'']);
    expect(await texts({ resource: 'orders', since: '2025-05-01T00:00:00Z' })).toEqual(['carol 1', 'alice 1', 'select \'"s4"\'', 'carol 2']);
  });

  it('long listing lets other callbacks run', async () => {
    for (let batch = 0; batch < 30; batch += 1) {
      await store.writeQueries([query(`batch ${batch}`, { time: '2025-04-02T00:00:00.000Z' })]);
    }

    let listingDone = false;
    let ranDuringListing = false;
    const listing = store.listQueries({ user: 'nobody@example.com' }).then((records) => {
      listingDone = true;
      return records;
    });
    setImmediate(() => {
      ranDuringListing = !listingDone;
    });

    expect(await listing).toEqual([]);
    expect(ranDuringListing).toBe(true);
  });

  it('long texts split one write into batches', async () => {
    const text = (index: number) => `select '${String(index).padStart(2, '0')}${'x'.repeat(64 * 1024)}'`;
    await store.writeQueries(Array.from({ length: 20 }, (_, index) => query(text(index), { time: '2025-03-02T00:00:00.000Z' })));

    const records = await store.listQueries({ since: '2025-03-02T00:00:00Z' });
    expect(records.map((record) => record.text)).toEqual(Array.from({ length: 20 }, (_, index) => text(index)));
    expect(records.map((record) => record.rowId - records[0].rowId)).toEqual(Array.from({ length: 20 }, (_, index) => index));
    const db = new Database(temp.path, { readonly: true });
    expect(db.prepare('SELECT count(*) AS count FROM query_log_batches').get()).toEqual({ count: 1 + Math.ceil((20 * text(0).length) / MAX_BATCH_TEXT_LENGTH) });
    db.close();
  });

  it('rejects a malformed entry and writes none of its batch', async () => {
    const error = await store
      .writeQueries([query('fine'), query('bad', { protocol: 'binary' as never })])
      .catch((caught: unknown) => caught);

    expect((error as ValidationError).field).toBe('protocol');
    expect(await texts({ since: '2025-03-01T12:30:00Z' })).toEqual([]);
    expect(await texts({})).toHaveLength(4);
  });

  it('invalid since', async () => {
    const error = await store.listQueries({ since: 'last tuesday' }).catch((caught: unknown) => caught);

    expect((error as ValidationError).code).toBe('invalid_value');
    expect((error as ValidationError).field).toBe('since');
    expect((error as ValidationError).message).toContain('"last tuesday"');
  });

  it('invalid limit', async () => {
    const error = await store.listQueries({ limit: 0 }).catch((caught: unknown) => caught);

    expect((error as ValidationError).field).toBe('limit');
  });

});

describe('endOpenConnections', () => {
  it('ends open records as failed and leaves the others', async () => {
    await store.writeConnections([
      connection('left-open'),
      connection('closed', { endedAt: '2025-03-01T10:05:00.000Z', outcome: 'closed' }),
    ]);
    const [leftOpen] = await store.listConnections({});

    expect(await store.endOpenConnections('2025-03-02T00:00:00.000Z', 'the node stopped before the session ended')).toBe(1);

    const records = await store.listConnections({});
    expect(records.map((record) => [record.id, record.outcome, record.endedAt, record.error])).toEqual([
      ['closed', 'closed', '2025-03-01T10:05:00.000Z', null],
      ['left-open', 'failed', '2025-03-02T00:00:00.000Z', 'the node stopped before the session ended'],
    ]);
    expect(records[1]).toMatchObject({ user: 'alice@example.com', clientAddress: '127.0.0.1:50000', startedAt: leftOpen.startedAt });
    expect(records[1].rowId).toBeGreaterThan(leftOpen.rowId);
    expect(await store.endOpenConnections('2025-03-03T00:00:00.000Z', 'again')).toBe(0);
  });
});

describe('pruneLogs', () => {
  it('deletes older records only', async () => {
    await store.writeQueries([query('old', { time: '2025-01-01T00:00:00.000Z' }), query('new', { time: '2025-03-01T00:00:00.000Z', sessionId: 'ended-new' })]);
    await store.writeConnections([
      connection('ended-old', { startedAt: '2025-01-01T00:00:00.000Z', endedAt: '2025-01-01T01:00:00.000Z', outcome: 'closed' }),
      connection('ended-new', { startedAt: '2025-01-01T00:00:00.000Z', endedAt: '2025-03-01T00:00:00.000Z', outcome: 'closed' }),
    ]);

    const pruned = await store.pruneLogs('2025-02-01T00:00:00.000Z');

    expect(pruned).toBe(2);
    expect((await store.listQueries({})).map((record) => record.text)).toEqual(['new']);
    expect((await store.listConnections({})).map((record) => record.id)).toEqual(['ended-new']);
  });

  it('open connection kept however old', async () => {
    await store.writeConnections([connection('open-old', { startedAt: '2025-01-01T00:00:00.000Z' })]);
    await store.writeQueries([query('recent', { time: '2025-03-01T00:00:00.000Z', sessionId: 'open-old' })]);

    await store.pruneLogs('2025-02-01T00:00:00.000Z');

    expect((await store.listConnections({})).map((record) => record.id)).toEqual(['open-old']);
    expect((await store.listQueries({}))[0]).toMatchObject({ text: 'recent', user: 'alice@example.com' });
  });

  it('batch across the cutoff keeps its newer statements', async () => {
    await store.writeQueries([
      query('a', { time: '2025-01-01T00:00:00.000Z' }),
      query('b', { time: '2025-03-01T00:00:00.000Z' }),
      query('c', { time: '2025-01-02T00:00:00.000Z' }),
      query('d', { time: '2025-03-02T00:00:00.000Z' }),
    ]);
    const before = await store.listQueries({});

    expect(await store.pruneLogs('2025-02-01T00:00:00.000Z')).toBe(2);
    expect(await store.listQueries({})).toEqual([before[1], before[3]]);
    expect((await store.listQueries({ until: '2025-03-01T12:00:00Z' })).map((record) => record.text)).toEqual(['b']);
    expect(await store.pruneLogs('2025-02-01T00:00:00.000Z')).toBe(0);
  });

  it('row ids not reused after prune', async () => {
    await store.writeQueries([query('a', { time: '2025-01-01T00:00:00.000Z' })]);
    const [first] = await store.listQueries({});
    await store.pruneLogs('2025-02-01T00:00:00.000Z');

    await store.writeQueries([query('b')]);
    const [second] = await store.listQueries({});

    expect(second.rowId).toBeGreaterThan(first.rowId);
  });
});
