// Location of the client state: SDM_HOME, or ~/.sdm by default. The
// directory is private to the user (mode 0700) because it contains the
// agent's control socket and, when no OS keyring works, the API token.

import { chmod, mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

/** Permission bits of SDM_HOME: read, write and search for the owner only. */
export const HOME_DIR_MODE = 0o700;

/** Permission bits of the files that must stay private: credentials, socket, state. */
export const PRIVATE_FILE_MODE = 0o600;

export interface SdmPaths {
  home: string;
  config: string;
  socket: string;
  log: string;
  pid: string;
  state: string;
  credentials: string;
}

/** Returns SDM_HOME when set and non-empty, else `~/.sdm`. */
export function resolveHome(env: Record<string, string | undefined>): string {
  const fromEnv = env.SDM_HOME;
  if (fromEnv !== undefined && fromEnv.length > 0) {
    return fromEnv;
  }
  return join(homedir(), '.sdm');
}

export function sdmPaths(home: string): SdmPaths {
  return {
    home,
    config: join(home, 'config.json'),
    socket: join(home, 'agent.sock'),
    log: join(home, 'agent.log'),
    pid: join(home, 'agent.pid'),
    state: join(home, 'state.json'),
    credentials: join(home, 'credentials'),
  };
}

/**
 * Creates the home directory with mode 0700, or tightens an existing one
 * that group or others can read, since it contains the control socket.
 */
export async function ensureHome(home: string): Promise<void> {
  await mkdir(home, { recursive: true, mode: HOME_DIR_MODE });

  const info = await stat(home);
  if ((info.mode & 0o077) !== 0) {
    await chmod(home, HOME_DIR_MODE);
  }
}

/**
 * Longest Unix socket path the kernel accepts, in bytes. sun_path has room for 108
 * bytes on Linux and 104 on macOS and the BSDs, including the closing NUL.
 * Node 20 shortens a longer path without an error, so the agent would
 * listen at a path no client looks for.
 */
export function maxSocketPathBytes(platform: NodeJS.Platform = process.platform): number {
  return platform === 'linux' ? 107 : 103;
}

/** Throws `socket_path_too_long` when the agent's socket path under SDM_HOME exceeds the platform's limit. */
export function checkSocketPath(paths: Pick<SdmPaths, 'home' | 'socket'>, platform: NodeJS.Platform = process.platform): void {
  const length = Buffer.byteLength(paths.socket);
  const max = maxSocketPathBytes(platform);
  if (length <= max) {
    return;
  }

  const homeMax = max - (length - Buffer.byteLength(paths.home));
  throw new SdmError(
    'socket_path_too_long',
    `the agent's socket path ${paths.socket} is ${length} bytes, but Unix sockets on ${platform} allow at most ${max}; SDM_HOME (${paths.home}) is too long`,
    { exitCode: ExitCode.USAGE, hint: `set SDM_HOME to a shorter directory, of at most ${homeMax} bytes, such as ~/.sdm` },
  );
}
