// Runs the CLI in-process with fake streams and a private SDM_HOME.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { saveConfig } from '../../src/agent/client-config.js';
import { sdmPaths, type SdmPaths } from '../../src/agent/home.js';
import type { CliDeps, CliIo, InputStream } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  /** Makes stdin, stdout and stderr claim to be terminals. */
  tty?: boolean;
  deps?: CliDeps;
  /** Resolves when the run should stop, as SIGINT would; by default never. */
  waitForStop?: () => Promise<string>;
}

export interface Harness {
  paths: SdmPaths;
  run(args: string[], options?: RunOptions): Promise<RunResult>;
  remove(): Promise<void>;
}

export async function createHarness(): Promise<Harness> {
  const home = await mkdtemp(join(tmpdir(), 'sdm-cli-'));
  const paths = sdmPaths(home);

  return {
    paths,
    run: (args, options = {}) => runInProcess(args, home, options),
    remove: () => rm(home, { recursive: true, force: true }),
  };
}

async function runInProcess(args: string[], home: string, options: RunOptions): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]) as unknown as InputStream;
  stdin.isTTY = options.tty === true;

  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text), isTTY: options.tty === true },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.tty === true },
    stdin,
    env: { SDM_HOME: home, SDM_KEYRING: 'off', ...options.env },
    waitForStop: options.waitForStop ?? (() => new Promise(() => undefined)),
  };

  const code = await runCli(args, io, { keyring: null, ...options.deps });
  return { code, stdout, stderr };
}

/** Writes config.json as sdm login would, pinning `node`. */
export async function loginTo(paths: SdmPaths, node: { host: string; port: number; fingerprint: string }): Promise<void> {
  await saveConfig(paths, { gateway: { host: node.host, port: node.port }, fingerprint: node.fingerprint });
}
