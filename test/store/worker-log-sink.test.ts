import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { QueryRecord } from '../../src/store/types.js';
import { tempDir } from '../helpers/postgres.js';

// The worker runs compiled code, so this test loads the sink from dist/, which `npm test` builds first.
const compiled = path.resolve('dist/src/store/worker-log-sink.js');

async function loadSink() {
  expect(fs.existsSync(compiled), 'run npm run build first').toBe(true);
  return (await import(compiled)) as typeof import('../../src/store/worker-log-sink.js');
}

function query(index: number): QueryRecord {
  return {
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, index % 60)).toISOString(),
    sessionId: 'session-1',
    user: 'alice@example.com',
    resource: 'orders',
    database: 'appdb',
    text: `SELECT ${index}`,
    truncated: false,
    protocol: 'simple',
  };
}

describe('WorkerLogSink', () => {
  it('writes batches from a worker thread', async () => {
    const file = path.join(tempDir(), 'store.db');
    await (await openSqliteStore(file)).close();
    const { startWorkerLogSink } = await loadSink();
    const sink = await startWorkerLogSink(file);

    expect(sink).toBeDefined();
    await sink!.writeQueries(Array.from({ length: 500 }, (_, index) => query(index)));
    await sink!.writeQueries(Array.from({ length: 500 }, (_, index) => query(index + 500)));
    await sink!.close();

    const store = await openSqliteStore(file);
    const rows = await store.listQueries({ limit: 5000 });
    expect(rows).toHaveLength(1000);
    expect(rows.map((row) => row.text)).toContain('SELECT 999');
    await store.close();
  });

  it('rejects a batch the store refuses', async () => {
    const file = path.join(tempDir(), 'store.db');
    await (await openSqliteStore(file)).close();
    const { startWorkerLogSink } = await loadSink();
    const sink = await startWorkerLogSink(file);

    await expect(sink!.writeQueries([{ ...query(1), time: 'not a time' }])).rejects.toThrow(/time/);
    await sink!.writeQueries([query(2)]);
    await sink!.close();
  });
});
