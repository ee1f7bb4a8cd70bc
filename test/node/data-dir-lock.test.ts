import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
      message: expect.stringContaining(`cannot write ${join(missing, LOCK_FILE_NAME)}`),
    });
  });

  it('creates its files with mode 0600', async () => {
    const lock = await lockDataDir(dir);

    expect(statSync(join(dir, LOCK_FILE_NAME)).mode & 0o777).toBe(0o600);
    expect(statSync(holderFile).mode & 0o777).toBe(0o600);
    await lock.release();
  });

  it('replaces a symbolic link at the holder file', async () => {
    const target = join(dir, 'target.txt');
    writeFileSync(target, 'keep me');
    symlinkSync(target, holderFile);

    const lock = await lockDataDir(dir);
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(lstatSync(holderFile).isSymbolicLink()).toBe(false);
    await lock.release();
    expect(readFileSync(target, 'utf8')).toBe('keep me');
  });

  it('reports a directory at the holder file', async () => {
    mkdirSync(holderFile);

    await expect(lockDataDir(dir)).rejects.toMatchObject({ code: 'data_dir_not_writable', message: expect.stringContaining(`cannot write ${holderFile}`) });
  });

  it('reports a lock file that is not SQLite', async () => {
    writeFileSync(join(dir, LOCK_FILE_NAME), 'this is not a database file, but text long enough to have a header');

    await expect(lockDataDir(dir)).rejects.toMatchObject({ code: 'data_dir_lock_failed', hint: expect.stringContaining(`remove ${join(dir, LOCK_FILE_NAME)}`) });
  });

  it('one of two racing starts wins', async () => {
    const compiled = new URL('../../dist/src/node/data-dir-lock.js', import.meta.url).href;
    const script = `
      import(${JSON.stringify(compiled)}).then(({ lockDataDir }) => lockDataDir(process.argv[1]))
        .then(() => { process.stdout.write('won'); setTimeout(() => undefined, 1500); }, (error) => process.stdout.write(error.code));
    `;
    for (let round = 0; round < 5; round += 1) {
      const roundDir = join(dir, `round-${round}`);
      mkdirSync(roundDir);
      const outcomes = await Promise.all(
        [0, 1].map(
          () =>
            new Promise<string>((resolve) => {
              let output = '';
              const child = spawn(process.execPath, ['-e', script, roundDir], { stdio: ['ignore', 'pipe', 'inherit'] });
              child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
              child.once('exit', () => resolve(output));
            }),
        ),
      );
      expect(outcomes.sort()).toEqual(['node_running', 'won']);
    }
  });
});
