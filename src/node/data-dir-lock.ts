// A running node locks its data directory with a PID file. A second node
// started on the same directory, even on another port, then fails before it
// opens the store, so it cannot end the first node's open sessions as
// leftovers of a crash.

import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

export const LOCK_FILE_NAME = 'node.pid';

export interface DataDirLock {
  /** Removes the PID file if it still names this process. */
  release(): Promise<void>;
}

/** The process a lock file names: its PID and, on Linux, its start time. */
interface Holder {
  pid: number;
  /** Start time in clock ticks after boot (field 22 of /proc/PID/stat); absent where /proc is missing. */
  startTicks?: string;
}

/** Data directories this process has locked, so a second lock here fails even though the PID is ours. */
const lockedHere = new Set<string>();

/**
 * Creates `node.pid` in the data directory with this process's PID and
 * start time. A file left by a node that is gone is taken over: its process
 * has exited, is a zombie, or is another process that got the same PID
 * later (after a restart, or as PID 1 of a restarted container). Throws
 * SdmError `node_running` while the named node runs.
 */
export async function lockDataDir(root: string): Promise<DataDirLock> {
  const file = path.join(root, LOCK_FILE_NAME);
  const self: Holder = { pid: process.pid, startTicks: startTicksOf(process.pid) };

  // NOTE: two nodes that find the same stale file at the same moment can
  // both take it over, because removing it and creating it again are two steps.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (!lockedHere.has(file) && (await createLockFile(file, self))) {
      lockedHere.add(file);
      return { release: () => releaseLockFile(file, self) };
    }
    const holder = await readHolder(file);
    if (lockedHere.has(file) || (holder !== undefined && isRunning(holder))) {
      throw new SdmError('node_running', `another node (PID ${holder?.pid ?? process.pid}) is using the data directory ${root}`, {
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
async function createLockFile(file: string, self: Holder): Promise<boolean> {
  try {
    await fs.writeFile(file, formatHolder(self), { flag: 'wx', mode: 0o600 });
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

function formatHolder(holder: Holder): string {
  return holder.startTicks === undefined ? `${holder.pid}\n` : `${holder.pid} ${holder.startTicks}\n`;
}

/** Reads the holder the file names; undefined when the file is gone, empty or not a PID. */
async function readHolder(file: string): Promise<Holder | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }

  const [pidText, startTicks, ...rest] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0 || rest.length > 0 || (startTicks !== undefined && !/^\d+$/.test(startTicks))) {
    return undefined;
  }
  return { pid, startTicks };
}

/**
 * Checks that the holder's process exists, is not a zombie, and started
 * when the file says. Signal 0 tests existence; EPERM means the process
 * exists under another user.
 */
function isRunning(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') {
      return false;
    }
  }

  const stat = procStat(holder.pid);
  if (stat === undefined) {
    return true;
  }
  if (stat.state === 'Z' || stat.state === 'X') {
    return false;
  }
  return holder.startTicks === undefined || holder.startTicks === stat.startTicks;
}

/** Reads the state and start time of a process from /proc; undefined where /proc is missing. */
function procStat(pid: number): { state: string; startTicks: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name in field 2 may hold spaces and parentheses, so fields
  // are counted from the last closing parenthesis: state is field 3 and the
  // start time field 22.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], startTicks: fields[19] };
}

function startTicksOf(pid: number): string | undefined {
  return procStat(pid)?.startTicks;
}

async function releaseLockFile(file: string, self: Holder): Promise<void> {
  lockedHere.delete(file);
  const holder = await readHolder(file);
  if (holder?.pid === self.pid && holder.startTicks === self.startTicks) {
    await fs.rm(file, { force: true });
  }
}
