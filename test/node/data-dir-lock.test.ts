import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ExitCode } from '../../src/exit-codes.js';
import { HOLDER_FILE_NAME, LOCK_FILE_NAME, lockDataDir } from '../../src/node/data-dir-lock.js';

const SQLITE_MODULE = createRequire(import.meta.url).resolve('better-sqlite3');

let dir: string;
let holderFile: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdm-lock-'));
  holderFile = join(dir, HOLDER_FILE_NAME);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a process that holds the lock file the way a node does, and resolves once it holds it. */
async function startOtherHolder(): Promise<ReturnType<typeof spawn>> {
  const script = `
    const Database = require(${JSON.stringify(SQLITE_MODULE)});
    const db = new Database(${JSON.stringify(join(dir, LOCK_FILE_NAME))});
    db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('locked\\n');
    setTimeout(() => undefined, 30_000);
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
  });
  return child;
}

describe('data directory lock', () => {
  it('names this process while held', async () => {
    const lock = await lockDataDir(dir);

    expect(readFileSync(holderFile, 'utf8')).toBe(`${process.pid} ${hostname()}\n`);
    await lock.release();
    expect(existsSync(holderFile)).toBe(false);
  });

  it('rejects a second lock in this process', async () => {
    const lock = await lockDataDir(dir);

    await expect(lockDataDir(dir)).rejects.toMatchObject({
      code: 'node_running',
      exitCode: ExitCode.CONFLICT,
      message: `another node is using the data directory ${dir} (PID ${process.pid} on host ${hostname()})`,
    });
    await lock.release();

    const again = await lockDataDir(dir);
    await again.release();
  });

  it('rejects a lock held by another process until it is killed', async () => {
    const other = await startOtherHolder();
    try {
      await expect(lockDataDir(dir)).rejects.toMatchObject({ code: 'node_running', message: `another node is using the data directory ${dir}` });
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }

    const lock = await lockDataDir(dir);
    expect(readFileSync(holderFile, 'utf8')).toBe(`${process.pid} ${hostname()}\n`);
    await lock.release();
  });

  it('ignores a holder file nobody locks', async () => {
    for (const text of ['1\n', '1 123\n', `${process.pid}\n`, 'not a pid\n', '']) {
      writeFileSync(holderFile, text);

      const lock = await lockDataDir(dir);
      await lock.release();
    }
  });

  it('reports a directory it cannot write to', async () => {
    const missing = join(dir, 'missing');

    await expect(lockDataDir(missing)).rejects.toMatchObject({
      code: 'data_dir_not_writable',
      message: expect.stringContaining(`cannot open ${join(missing, LOCK_FILE_NAME)}`),
    });
  });
});
