import { spawn } from 'node:child_process';

import { binPath } from '../cli/package-root.js';

/** Path of the `sdm` entry script. */
export const SDM_BIN = binPath();

export interface SdmRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `sdm` binary as a child process and collects its output. */
export function runSdm(args: string[], options: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<SdmRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SDM_BIN, ...args], { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs ?? 60_000);

    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal === 'SIGTERM' ? 15 : 9), stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
