import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { sdmPaths } from '../../src/agent/home.js';
import { emptyState, loadState, saveState } from '../../src/agent/state-file.js';
import { tempDir } from '../helpers/postgres.js';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

describe('agent state file', () => {
  it('starts with no remembered resource of any name', () => {
    const state = emptyState();

    for (const name of PROTOTYPE_NAMES) {
      expect(state.resources[name]).toBeUndefined();
    }
  });

  it('remembers resources named like object properties', async () => {
    const paths = sdmPaths(path.join(tempDir(), 'home'));
    const state = emptyState();
    PROTOTYPE_NAMES.forEach((name, index) => {
      state.resources[name] = { name, bindIp: '127.0.0.1', port: 20_000 + index, connected: true };
    });

    await saveState(paths, state);
    const loaded = await loadState(paths);

    for (const [index, name] of PROTOTYPE_NAMES.entries()) {
      expect(loaded.resources[name]?.port).toBe(20_000 + index);
    }
    expect(Object.keys(loaded.resources).sort()).toEqual([...PROTOTYPE_NAMES].sort());
  });
});
