import { spawn, spawnSync } from 'node:child_process';
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

/** Field 22 of /proc/PID/stat: the process's start time in clock ticks after boot. */
function startTicks(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

const OWN_CONTENT = `${process.pid} ${startTicks(process.pid)}\n`;

describe('data directory lock', () => {
  it('writes this PID and removes it on release', async () => {
    const lock = await lockDataDir(dir);

    expect(readFileSync(lockFile, 'utf8')).toBe(OWN_CONTENT);
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
    expect(readFileSync(lockFile, 'utf8')).toBe(OWN_CONTENT);
    await lock.release();
  });

  it('takes over the file of a node that is gone', async () => {
    writeFileSync(lockFile, `${exitedPid()}\n`);

    const lock = await lockDataDir(dir);
    expect(readFileSync(lockFile, 'utf8')).toBe(OWN_CONTENT);
    await lock.release();
  });

  it('takes over its own PID from an earlier process', async () => {
    // A container's node is PID 1 after every restart, and the file names
    // PID 1 with the start time of the process that was killed.
    writeFileSync(lockFile, `${process.pid} 1\n`);

    const lock = await lockDataDir(dir);
    expect(readFileSync(lockFile, 'utf8')).toBe(OWN_CONTENT);
    await lock.release();
  });

  it('takes over a PID reused by another process', async () => {
    writeFileSync(lockFile, `${process.ppid} 1\n`);

    const lock = await lockDataDir(dir);
    expect(readFileSync(lockFile, 'utf8')).toBe(OWN_CONTENT);
    await lock.release();
  });

  it('rejects the lock of a running process', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 30_000)'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => holder.once('spawn', resolve));
      writeFileSync(lockFile, `${holder.pid} ${startTicks(holder.pid!)}\n`);

      await expect(lockDataDir(dir)).rejects.toMatchObject({ code: 'node_running', message: expect.stringContaining(`PID ${holder.pid}`) });
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('takes over an empty or garbled file', async () => {
    for (const text of ['', 'not a pid\n', '-5\n', '12 x\n', '12 34 56\n']) {
      writeFileSync(lockFile, text);

      const lock = await lockDataDir(dir);
      expect(readFileSync(lockFile, 'utf8')).toBe(OWN_CONTENT);
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
