import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loggedQueries, nodes, nodeWithResource, runQueries } from '../helpers/audit-parameters.js';
import type { TestNode } from '../helpers/node-harness.js';

afterAll(async () => {
  for (const node of nodes) {
    await node.close();
  }
});

describe('bound parameters in the query log', () => {
  let node: TestNode;

  beforeAll(async () => {
    node = await nodeWithResource(true);
    await runQueries(node);
  });

  it('keeps the values of each Bind', async () => {
    const records = await loggedQueries(node, 3);
    const first = records.find((record) => record.text.includes('$3::text'));

    expect(first?.protocol).toBe('extended');
    expect(first?.parameters).toEqual(['secret-ish', '42', null]);
  });

  it('logs a reused statement with its new values', async () => {
    const records = await loggedQueries(node, 3);
    const reused = records.filter((record) => record.parameters?.length === 1).map((record) => record.parameters![0]);

    expect(reused).toContain('1');
    expect(reused).toContain('2');
  });
});
