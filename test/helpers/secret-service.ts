// A private Secret Service for keyring tests: a session bus started by
// dbus-run-session, and on it a gnome-keyring-daemon whose login keyring is
// created and unlocked with a throwaway password. HOME and the XDG
// directories point into a temp directory, so the user's own keyring and
// bus are never touched. Every process it starts is stopped by PID in close().
//
// gnome-keyring-daemon 42 accepts writes only once a default collection
// exists and is unlocked. Started by D-Bus activation or with --start alone,
// it has no collection, and @napi-rs/keyring 2.1 fails every write with
// "Secret Service: no result found". With `--unlock` the daemon reads a
// password from stdin, then creates the login keyring with it and unlocks it.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Programs the Secret Service tests run, and the Debian packages that contain them. */
export const SECRET_SERVICE_TOOLS: Record<string, string> = {
  'dbus-run-session': 'dbus-daemon',
  'dbus-send': 'dbus-bin',
  'gnome-keyring-daemon': 'gnome-keyring',
  'secret-tool': 'libsecret-tools',
};

/** D-Bus name under which a Secret Service implementation serves. */
const SECRET_SERVICE_NAME = 'org.freedesktop.secrets';

/** Password of the throwaway login keyring, which exists only in the temp directory. */
const KEYRING_PASSWORD = 'sdm-test-keyring-password';

const BUS_START_TIMEOUT_MS = 5_000;
const KEYRING_READY_TIMEOUT_MS = 5_000;
const READY_POLL_INTERVAL_MS = 50;
const STOP_TIMEOUT_MS = 3_000;
const TOOL_TIMEOUT_MS = 5_000;

export interface SecretService {
  /** Environment for child processes: PATH, HOME, the XDG directories and DBUS_SESSION_BUS_ADDRESS. */
  env: NodeJS.ProcessEnv;
  /** PID of the gnome-keyring-daemon that owns org.freedesktop.secrets on the bus. */
  keyringPid: number;
  /** Returns the secret stored under `attributes`, or undefined when secret-tool finds none. */
  lookup(attributes: Record<string, string>): Promise<string | undefined>;
  /** Returns the output of `secret-tool search --all`: label, secret and attributes of each item found. */
  search(attributes: Record<string, string>): Promise<string>;
  /** Deletes every item stored under `attributes`. */
  clear(attributes: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Returns the programs of SECRET_SERVICE_TOOLS that no directory of `searchPath` contains as an executable. */
export function findMissingTools(searchPath = process.env.PATH ?? ''): string[] {
  const directories = searchPath.split(delimiter).filter((directory) => directory.length > 0);
  return Object.keys(SECRET_SERVICE_TOOLS).filter((tool) => !directories.some((directory) => isExecutable(join(directory, tool))));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Creates a temp HOME with private XDG directories, for a bus and keyring that share nothing with the user's. */
export async function privateEnvironment(prefix: string): Promise<{ root: string; env: NodeJS.ProcessEnv }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'data'),
    XDG_CACHE_HOME: join(root, 'cache'),
    XDG_RUNTIME_DIR: join(root, 'run'),
  };

  // XDG_RUNTIME_DIR must be private to the user, as the XDG Base Directory specification requires.
  await mkdir(join(root, 'run'), { mode: 0o700 });
  return { root, env };
}

/** Starts a session bus and an unlocked gnome-keyring-daemon on it. */
export async function startSecretService(): Promise<SecretService> {
  const { root, env } = await privateEnvironment('sdm-secret-service-');
  const stoppers: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stoppers.reverse()) {
      await stop();
    }
    await rm(root, { recursive: true, force: true });
  };

  try {
    const bus = await startBus(env);
    stoppers.push(() => endBus(bus));
    env.DBUS_SESSION_BUS_ADDRESS = bus.address;
    bus.daemonPid = await connectionPid(env, 'org.freedesktop.DBus');

    const keyring = startKeyringDaemon(env);
    stoppers.push(() => stopProcess(keyring.child));
    await waitForKeyring(env, keyring);

    return secretService(env, keyring.child.pid ?? 0, stopAll);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function secretService(env: NodeJS.ProcessEnv, keyringPid: number, close: () => Promise<void>): SecretService {
  return {
    env,
    keyringPid,
    lookup: async (attributes) => {
      const result = await runTool('secret-tool', ['lookup', ...attributeArgs(attributes)], env);
      if (result.code === 0) {
        return result.stdout;
      }
      if (result.code === 1 && result.stdout === '' && result.stderr === '') {
        return undefined;
      }
      throw new Error(`secret-tool lookup exited with ${result.code}: ${result.stderr}`);
    },
    search: async (attributes) => {
      const result = await runTool('secret-tool', ['search', '--all', ...attributeArgs(attributes)], env);
      // secret-tool prints each item's label and secret on stdout and its attributes on stderr.
      return result.stdout + result.stderr;
    },
    clear: async (attributes) => {
      const result = await runTool('secret-tool', ['clear', ...attributeArgs(attributes)], env);
      if (result.code !== 0 && result.stderr !== '') {
        throw new Error(`secret-tool clear exited with ${result.code}: ${result.stderr}`);
      }
    },
    close,
  };
}

function attributeArgs(attributes: Record<string, string>): string[] {
  return Object.entries(attributes).flat();
}

interface Bus {
  /** The dbus-run-session process, whose child shell keeps the session open. */
  holder: ChildProcess;
  address: string;
  /** PID of the dbus-daemon that dbus-run-session started, once known. */
  daemonPid: number | undefined;
}

/**
 * Runs dbus-run-session with a shell that prints the bus address and then
 * waits for its stdin to close. Closing stdin ends the session, and
 * dbus-run-session then stops the bus daemon it started.
 */
async function startBus(env: NodeJS.ProcessEnv): Promise<Bus> {
  const script = 'printf "%s\\n" "$DBUS_SESSION_BUS_ADDRESS"; exec cat >/dev/null';
  const holder = spawn('dbus-run-session', ['--', 'sh', '-c', script], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  holder.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));

  let address: string;
  try {
    address = await firstLine(holder, BUS_START_TIMEOUT_MS);
  } catch (error) {
    await stopProcess(holder);
    throw new Error(`the session bus did not start: ${(error as Error).message}\n${stderr}`);
  }
  return { holder, address, daemonPid: undefined };
}

/** Ends the session by closing the holder's stdin. If dbus-run-session hangs, kills it and its bus daemon by PID. */
async function endBus(bus: Bus): Promise<void> {
  bus.holder.stdin?.end();
  if (await exitedWithin(bus.holder, STOP_TIMEOUT_MS)) {
    return;
  }

  await stopProcess(bus.holder);
  if (bus.daemonPid !== undefined) {
    try {
      process.kill(bus.daemonPid, 'SIGKILL');
    } catch {
      // The bus daemon already exited.
    }
  }
}

/** Returns the PID of the process that owns the bus name `name`, or undefined when no process owns it. */
async function connectionPid(env: NodeJS.ProcessEnv, name: string): Promise<number | undefined> {
  const args = ['--session', '--print-reply=literal', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus'];
  const result = await runTool('dbus-send', [...args, 'org.freedesktop.DBus.GetConnectionUnixProcessID', `string:${name}`], env);
  const pid = /uint32 (\d+)/.exec(result.stdout);
  return pid === null ? undefined : Number(pid[1]);
}

function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no output within ${timeoutMs} ms`)), timeoutMs);

    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const end = text.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(text.slice(0, end));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${child.spawnfile} exited with ${code}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function startKeyringDaemon(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const args = ['--foreground', '--unlock', '--components=secrets'];
  const child = spawn('gnome-keyring-daemon', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.on('error', (error) => (output += error.message));

  // The password goes without a trailing newline, as `echo -n` would send it, and stdin then closes.
  child.stdin?.end(KEYRING_PASSWORD);
  return { child, output: () => output };
}

/**
 * Waits until the daemon started here owns org.freedesktop.secrets. Until
 * then a Secret Service call would make the bus start a second daemon by
 * D-Bus activation, without an unlocked keyring. The bus driver's
 * GetConnectionUnixProcessID starts no service.
 */
async function waitForKeyring(env: NodeJS.ProcessEnv, keyring: { child: ChildProcess; output: () => string }): Promise<void> {
  const deadline = Date.now() + KEYRING_READY_TIMEOUT_MS;

  while (Date.now() < deadline) {
    if (keyring.child.exitCode !== null || keyring.child.signalCode !== null) {
      throw new Error(`gnome-keyring-daemon exited with ${keyring.child.exitCode ?? keyring.child.signalCode}: ${keyring.output()}`);
    }

    const owner = await connectionPid(env, SECRET_SERVICE_NAME);
    if (owner === keyring.child.pid) {
      return;
    }
    if (owner !== undefined) {
      throw new Error(`process ${owner} owns ${SECRET_SERVICE_NAME}, not the gnome-keyring-daemon started here (${keyring.child.pid})`);
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_INTERVAL_MS));
  }
  throw new Error(`gnome-keyring-daemon did not own ${SECRET_SERVICE_NAME} on the bus within ${KEYRING_READY_TIMEOUT_MS} ms: ${keyring.output()}`);
}

/** Runs a command-line tool and returns its exit code and output, also when the code is not zero. */
export function runTool(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: TOOL_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ code: 0, stdout, stderr });
      } else if (typeof error.code === 'number') {
        resolve({ code: error.code, stdout, stderr });
      } else {
        reject(new Error(`${file} failed: ${error.message}`));
      }
    });
  });
}

/** Stops a child started here by PID: SIGTERM, then SIGKILL, each with a bounded wait. */
async function stopProcess(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (await exitedWithin(child, STOP_TIMEOUT_MS)) {
    return;
  }

  child.kill('SIGKILL');
  await exitedWithin(child, STOP_TIMEOUT_MS);
}

function exitedWithin(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}
