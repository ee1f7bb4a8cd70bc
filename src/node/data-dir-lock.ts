// A running node locks its data directory with a PID file. A second node
// started on the same directory, even on another port, then fails before it
// opens the store, so it cannot end the first node's open sessions as
// leftovers of a crash.

import fs from 'node:fs/promises';
import path from 'node:path';

import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

export const LOCK_FILE_NAME = 'node.pid';

export interface DataDirLock {
  /** Removes the PID file if it still names this process. */
  release(): Promise<void>;
}

/**
 * Creates `node.pid` in the data directory with this process's PID. A file
 * left by a node that is gone (killed, or the machine restarted) is taken
 * over. Throws SdmError `node_running` while the named process runs.
 */
export async function lockDataDir(root: string): Promise<DataDirLock> {
  const file = path.join(root, LOCK_FILE_NAME);

  // NOTE: two nodes that find the same stale file at the same moment can
  // both take it over, because removing it and creating it again are two steps.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (await createLockFile(file)) {
      return { release: () => releaseLockFile(file) };
    }
    const holder = await readHolder(file);
    if (holder !== undefined && isRunning(holder)) {
      throw new SdmError('node_running', `another node (PID ${holder}) is using the data directory ${root}`, {
        exitCode: ExitCode.CONFLICT,
        hint: `stop that node first, or use another data directory; if no node runs there, remove ${file}`,
      });
    }
    await fs.rm(file, { force: true });
  }
  throw new SdmError('node_running', `another node took the data directory ${root} while this one started`, {
    exitCode: ExitCode.CONFLICT,
    hint: 'stop the other node first, or use another data directory',
  });
}

/** Returns false when the file exists already. */
async function createLockFile(file: string): Promise<boolean> {
  try {
    await fs.writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return false;
    }
    throw new SdmError('data_dir_not_writable', `cannot create ${file}: ${(error as Error).message}`, {
      cause: error,
      hint: 'check that this user can write to the data directory',
    });
  }
}

/** Reads the PID in the file; undefined when the file is gone, empty or not a PID. */
async function readHolder(file: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** Signal 0 checks that a process exists; EPERM means it exists under another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function releaseLockFile(file: string): Promise<void> {
  if ((await readHolder(file)) === process.pid) {
    await fs.rm(file, { force: true });
  }
}
