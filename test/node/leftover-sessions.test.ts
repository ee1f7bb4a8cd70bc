import { afterEach, describe, expect, it } from 'vitest';

import { ExitCode } from '../../src/exit-codes.js';
import { silentLogger } from '../../src/log.js';
import { dataDirPaths } from '../../src/node/data-dir.js';
import { LEFTOVER_SESSION_ERROR, runGateway, type RunningGateway } from '../../src/node/gateway.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { ConnectionRecord } from '../../src/store/types.js';
import { startTestNode, type TestNode } from '../helpers/node-harness.js';
import { connectionRecord } from '../store/temp-store.js';

const LEFT_OPEN = connectionRecord('left-open');

let node: TestNode | undefined;
let second: RunningGateway | undefined;

afterEach(async () => {
  await second?.close();
  await node?.close();
  second = undefined;
  node = undefined;
});

async function connectionRecords(dataDir: string): Promise<ConnectionRecord[]> {
  const store = await openSqliteStore(dataDirPaths(dataDir).store);
  try {
    return await store.listConnections({});
  } finally {
    await store.close();
  }
}

describe('connection records left open by an earlier run', () => {
  it('ended at start, kept by a failed start', async () => {
    node = await startTestNode();
    const store = await openSqliteStore(dataDirPaths(node.dataDir).store);
    await store.writeConnections([LEFT_OPEN]);
    await store.close();

    // A second node on the same data directory fails, on the same port or
    // another, and must not end the first node's open sessions.
    for (const listen of [`127.0.0.1:${node.port}`, '127.0.0.1:0']) {
      await expect(runGateway({ dataDir: node.dataDir, listen, logger: silentLogger() })).rejects.toMatchObject({
        code: 'node_running',
        exitCode: ExitCode.CONFLICT,
      });
    }
    expect((await connectionRecords(node.dataDir))[0]).toMatchObject({ id: 'left-open', outcome: 'open', endedAt: null });

    const dataDir = node.dataDir;
    await node.close();
    node = undefined;
    second = await runGateway({ dataDir, listen: '127.0.0.1:0', logger: silentLogger() });

    const [record] = await connectionRecords(dataDir);
    expect(record).toMatchObject({ id: 'left-open', outcome: 'failed', error: LEFTOVER_SESSION_ERROR, user: 'alice@example.com' });
    expect(Date.parse(record.endedAt!)).toBeGreaterThan(Date.parse(LEFT_OPEN.startedAt));
  });
});
