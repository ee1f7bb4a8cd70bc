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

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';

import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

export const LOCK_FILE_NAME = 'node.lock';
export const HOLDER_FILE_NAME = 'node.pid';

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
    db = new Database(lockFile, { timeout: 0 });
  } catch (error) {
    throw new SdmError('data_dir_not_writable', `cannot open ${lockFile}: ${(error as Error).message}`, {
      cause: error,
      hint: 'check that this user can write to the data directory',
    });
  }

  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') {
      throw error;
    }
    throw new SdmError('node_running', `another node is using the data directory ${root}${await describeHolder(holderFile)}`, {
      exitCode: ExitCode.CONFLICT,
      hint: 'stop that node first, or use another data directory',
    });
  }

  await fs.writeFile(holderFile, `${process.pid} ${os.hostname()}\n`, { mode: 0o600 });
  return {
    release: async () => {
      if (db.open) {
        await fs.rm(holderFile, { force: true });
        db.close();
      }
    },
  };
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
