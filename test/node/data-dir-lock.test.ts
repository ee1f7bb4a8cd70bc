import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ExitCode } from '../../src/exit-codes.js';
import { LOCK_FILE_NAME, lockDataDir } from '../../src/node/data-dir-lock.js';

let dir: string;
let lockFile: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdm-lock-'));
  lockFile = join(dir, LOCK_FILE_NAME);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a process to its exit and returns its PID, which no process has for now. */
function exitedPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('data directory lock', () => {
  it('writes this PID and removes it on release', async () => {
    const lock = await lockDataDir(dir);

    expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid}\n`);
    expect(statSync(lockFile).mode & 0o777).toBe(0o600);
    await lock.release();
    expect(existsSync(lockFile)).toBe(false);
  });

  it('rejects a second lock while the holder runs', async () => {
    const lock = await lockDataDir(dir);

    await expect(lockDataDir(dir)).rejects.toMatchObject({
      code: 'node_running',
      exitCode: ExitCode.CONFLICT,
      message: `another node (PID ${process.pid}) is using the data directory ${dir}`,
    });
    expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });

  it('takes over the file of a node that is gone', async () => {
    writeFileSync(lockFile, `${exitedPid()}\n`);

    const lock = await lockDataDir(dir);
    expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });

  it('takes over an empty or garbled file', async () => {
    for (const text of ['', 'not a pid\n', '-5\n']) {
      writeFileSync(lockFile, text);

      const lock = await lockDataDir(dir);
      expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid}\n`);
      await lock.release();
    }
  });

  it('reports a directory it cannot write to', async () => {
    const missing = join(dir, 'missing');

    await expect(lockDataDir(missing)).rejects.toMatchObject({
      code: 'data_dir_not_writable',
      message: expect.stringContaining(`cannot create ${join(missing, LOCK_FILE_NAME)}: ENOENT`),
    });
  });

  it('release leaves a file another process took', async () => {
    const lock = await lockDataDir(dir);
    writeFileSync(lockFile, '1\n');

    await lock.release();
    expect(readFileSync(lockFile, 'utf8')).toBe('1\n');
  });
});
