// A running node locks its data directory. A second node started on the same
// directory then fails before it opens the store, even on another port or in
// another container or PID namespace on the same machine. So it cannot end
// the first node's open sessions as leftovers of a crash.
//
// The lock is an exclusive SQLite transaction on `node.lock`, held open for
// the node's lifetime. SQLite takes it with a POSIX record lock (fcntl),
// which the kernel keeps per open file whatever the PID namespace, and
// drops when the process exits, even by SIGKILL. So no stale lock survives a
// crash, and no PID has to be trusted. `node.pid` only names the holder in
// the error a second node prints.

import { closeSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';

import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

export const LOCK_FILE_NAME = 'node.lock';
export const HOLDER_FILE_NAME = 'node.pid';

/**
 * Time a start waits for the lock. Two nodes that start at the same moment
 * each hold a shared lock for a moment while they open the file, and
 * without a wait both could see the other's and fail.
 */
const LOCK_WAIT_MS = 1_000;

export interface DataDirLock {
  /** Ends the lock and removes the holder file. */
  release(): Promise<void>;
}

// NOTE: on a network file system the lock is only as good as that file
// system's fcntl locks. Two machines that share one data directory are not
// a supported setup.
/**
 * Takes the data directory's lock, or throws SdmError `node_running`
 * (exit 7) while another process holds it.
 */
export async function lockDataDir(root: string): Promise<DataDirLock> {
  const lockFile = path.join(root, LOCK_FILE_NAME);
  const holderFile = path.join(root, HOLDER_FILE_NAME);

  let db: Database.Database;
  try {
    // Created first, so that it has mode 0600 like the node's other files.
    closeSync(openSync(lockFile, 'a', 0o600));
    db = new Database(lockFile, { timeout: LOCK_WAIT_MS });
  } catch (error) {
    throw notWritable(lockFile, error);
  }

  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new SdmError('node_running', `another node is using the data directory ${root}${await describeHolder(holderFile)}`, {
        exitCode: ExitCode.CONFLICT,
        hint: 'stop that node first, or use another data directory',
      });
    }
    throw new SdmError('data_dir_lock_failed', `cannot lock ${lockFile}: ${(error as Error).message}`, {
      cause: error,
      hint: `if no node runs on this data directory, remove ${lockFile} and start again`,
    });
  }

  try {
    await writeHolderFile(holderFile);
  } catch (error) {
    db.close();
    throw notWritable(holderFile, error);
  }
  return {
    release: async () => {
      if (db.open) {
        await fs.rm(holderFile, { force: true });
        db.close();
      }
    },
  };
}

/**
 * Writes this process's PID and host to a new file and renames it over the
 * holder file, so that a symbolic link placed there is replaced, not followed.
 */
async function writeHolderFile(holderFile: string): Promise<void> {
  const temporary = `${holderFile}.${process.pid}.tmp`;
  await fs.writeFile(temporary, `${process.pid} ${os.hostname()}\n`, { flag: 'wx', mode: 0o600 });
  try {
    await fs.rename(temporary, holderFile);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}

function notWritable(file: string, error: unknown): SdmError {
  return new SdmError('data_dir_not_writable', `cannot write ${file}: ${(error as Error).message}`, {
    cause: error,
    hint: 'check that this user can write to the data directory, and that nothing else has that name there',
  });
}

/** Returns ` (PID N on host H)` from the holder file, or nothing when it cannot be read. */
async function describeHolder(holderFile: string): Promise<string> {
  try {
    const [pid, host] = (await fs.readFile(holderFile, 'utf8')).trim().split(/\s+/);
    return /^\d+$/.test(pid ?? '') && host !== undefined ? ` (PID ${pid} on host ${host})` : '';
  } catch {
    return '';
  }
}
