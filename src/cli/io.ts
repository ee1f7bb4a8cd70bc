// The streams and environment a CLI run uses. main.ts passes the process's
// own; tests pass fakes, so every command runs in-process.

import type { KeyringOpener } from '../agent/credential-store.js';
import type { SdmPaths } from '../agent/home.js';
import type { Prompter } from './prompt.js';

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface InputStream extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: InputStream;
  env: Record<string, string | undefined>;
  /** Resolves with the signal's name when the process is asked to stop; long-running commands wait for it. */
  waitForStop(): Promise<string>;
}

/** Replaceable parts of the CLI; each defaults to the real implementation. */
export interface CliDeps {
  /** Opens OS keyring entries; null disables the keyring. */
  keyring?: KeyringOpener | null;
  prompt?: Prompter;
  /** Starts the agent in the background; the default spawns `sdm listen` detached. */
  launchAgent?(paths: SdmPaths, env: Record<string, string | undefined>): Promise<void>;
  /** Runs the command given after `--` to sdm connect and returns its exit code. */
  runCommand?(command: string[], env: Record<string, string | undefined>): Promise<number>;
  now?(): Date;
  /** Pause between two polls of `sdm logs --follow`; the default is one second. */
  followIntervalMs?: number;
}

/** Returns the process's own streams, environment and stop signals. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // process.stdin sets up a stream on first use, which only prompts need.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    waitForStop: () =>
      new Promise((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve(signal);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }),
  };
}
