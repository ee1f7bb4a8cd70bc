// Child processes of the benchmark: each prints one JSON line on stdout when
// it is ready, runs until SIGTERM, and is stopped by its PID alone.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

import { SdmError } from '../src/errors.js';

/** Time a child gets to print its ready line. */
export const CHILD_READY_TIMEOUT_MS = 60_000;

/** Time a child gets to exit after SIGTERM before it gets SIGKILL. */
export const CHILD_STOP_TIMEOUT_MS = 10_000;

/** Pause between attempts to connect to a child that does not print a ready line. */
export const LISTEN_POLL_INTERVAL_MS = 50;

/** Lines of a child's stderr kept for error messages. */
const STDERR_TAIL_LINES = 20;

/** Characters of stderr kept from a child that prints no ready line. */
const STDERR_TAIL_CHARS = 2_000;

export class BenchError extends SdmError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

export interface ReadyChild<T> {
  pid: number;
  ready: T;
  /** Resident set size (VmRSS) of the child in bytes, read from /proc. */
  rssBytes(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Spawns `program args` and resolves with the first stdout line parsed as
 * JSON. Rejects, after stopping the child, when it exits or stays silent
 * for CHILD_READY_TIMEOUT_MS.
 */
export async function spawnReady<T>(label: string, program: string, args: string[], options: SpawnOptions): Promise<ReadyChild<T>> {
  const child = spawn(program, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderrTail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) {
      stderrTail.shift();
    }
  });

  try {
    const ready = await firstLine<T>(child, label);
    return { pid: child.pid!, ready, rssBytes: () => readRssBytes(child.pid!), stop: () => stopChild(child) };
  } catch (error) {
    await stopChild(child);
    throw new BenchError('child_failed', `${label} (pid ${child.pid}) did not start: ${(error as Error).message}; its last stderr lines were:\n${stderrTail.join('\n')}`);
  }
}

/**
 * Spawns a program that prints no ready line, such as pgbouncer, and
 * resolves once a TCP connection to 127.0.0.1:`port` succeeds. Rejects,
 * after stopping the child, when it exits first or CHILD_READY_TIMEOUT_MS passes.
 */
export async function spawnListening(label: string, program: string, args: string[], port: number, options: SpawnOptions): Promise<ReadyChild<{ port: number }>> {
  const child = spawn(program, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS)));
  const deadline = Date.now() + CHILD_READY_TIMEOUT_MS;

  while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
    if (await canConnect(port)) {
      return { pid: child.pid!, ready: { port }, rssBytes: () => readRssBytes(child.pid!), stop: () => stopChild(child) };
    }
    await sleep(LISTEN_POLL_INTERVAL_MS);
  }

  await stopChild(child);
  throw new BenchError('child_failed', `${label} (pid ${child.pid}) did not listen on 127.0.0.1:${port} within ${CHILD_READY_TIMEOUT_MS} ms; its stderr was:\n${stderr}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function firstLine<T>(child: ChildProcess, label: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within ${CHILD_READY_TIMEOUT_MS} ms`)), CHILD_READY_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });

    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${label} printed "${line.slice(0, 200)}", expected one JSON line`));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code ?? signal} before it was ready`));
    });
  });
}

/** Sends SIGTERM, then SIGKILL after CHILD_STOP_TIMEOUT_MS, and resolves once the child has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    if (child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    child.kill(signal);
    await waitForExit(child, CHILD_STOP_TIMEOUT_MS);
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Reads VmRSS of a process from /proc/PID/status (Linux only). */
export async function readRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) {
    throw new BenchError('rss_unavailable', `/proc/${pid}/status has no VmRSS line; expected a running Linux process`);
  }
  return Number(match[1]) * 1024;
}

/** Runs a program to completion and returns its exit code, stdout and stderr; kills it after `timeoutMs`. */
export function runToEnd(program: string, args: string[], options: SpawnOptions & { timeoutMs: number; input?: string }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);

    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 143), stdout, stderr });
    });
    child.stdin!.end(options.input ?? '');
  });
}
