import { afterAll, describe, expect, it } from 'vitest';

import { loggedQueries, nodes, nodeWithResource, runQueries } from '../helpers/audit-parameters.js';

afterAll(async () => {
  for (const node of nodes) {
    await node.close();
  }
});

describe('bound parameters by default', () => {
  it('are not stored', async () => {
    const node = await nodeWithResource(false);
    await runQueries(node);
    const records = await loggedQueries(node, 2);

    expect(records.some((record) => record.text.includes('$3::text'))).toBe(true);
    for (const record of records) {
      expect(record.parameters).toBeNull();
    }
  });
});
