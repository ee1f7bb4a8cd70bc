// Bulk transfers through one path with psql: COPY in and out of an unlogged
// table, and one large text value each way. Each returns its wall-clock time.

import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { ClientPath } from './paths.js';
import { COPY_TABLE } from './postgres-setup.js';

export const PSQL_PATH = '/usr/bin/psql';

/** Bytes of payload text per COPY row; with the id and separators a row is about 120 bytes. */
const COPY_PAYLOAD_BYTES = 100;

/** Rows generated per chunk written to psql's stdin. */
const COPY_ROWS_PER_CHUNK = 4096;

/** Time one transfer may take before psql is killed. */
const TRANSFER_TIMEOUT_MS = 180_000;

export interface TransferTime {
  ms: number;
  bytes: number;
}

/** Empties the table and COPYs about `bytes` of rows into it from psql's stdin. */
export async function copyIn(path: ClientPath, bytes: number): Promise<TransferTime> {
  await runPsql(path, ['-c', `TRUNCATE ${COPY_TABLE}`], Readable.from([]));
  const started = performance.now();
  const sent = await runPsql(path, ['-c', `COPY ${COPY_TABLE} FROM STDIN`], Readable.from(copyRows(bytes)));
  return { ms: performance.now() - started, bytes: sent.stdinBytes };
}

/** COPYs the whole table out to psql's stdout, which is counted and dropped. */
export async function copyOut(path: ClientPath): Promise<TransferTime> {
  const started = performance.now();
  const run = await runPsql(path, ['-c', `COPY ${COPY_TABLE} TO STDOUT`], Readable.from([]));
  return { ms: performance.now() - started, bytes: run.stdoutBytes };
}

/** Sends one query whose text carries a `bytes`-long literal, which the node scans and audits. */
export async function valueIn(path: ClientPath, bytes: number): Promise<TransferTime> {
  const query = `SELECT length('${'x'.repeat(bytes)}');\n`;
  const started = performance.now();
  await runPsql(path, ['-q', '-f', '-'], Readable.from([Buffer.from(query)]));
  return { ms: performance.now() - started, bytes };
}

/** Reads one `bytes`-long text value from the server. */
export async function valueOut(path: ClientPath, bytes: number): Promise<TransferTime> {
  const started = performance.now();
  const run = await runPsql(path, ['-c', `SELECT repeat('x', ${bytes})`], Readable.from([]));
  return { ms: performance.now() - started, bytes: run.stdoutBytes };
}

function* copyRows(bytes: number): Generator<Buffer> {
  const payload = 'p'.repeat(COPY_PAYLOAD_BYTES);
  let written = 0;
  let id = 0;

  while (written < bytes) {
    const lines: string[] = [];
    for (let row = 0; row < COPY_ROWS_PER_CHUNK; row += 1) {
      id += 1;
      lines.push(`${id}\t${payload}\n`);
    }
    const chunk = Buffer.from(lines.join(''));
    written += chunk.length;
    yield chunk;
  }
}

interface PsqlRun {
  stdinBytes: number;
  stdoutBytes: number;
}

async function runPsql(path: ClientPath, args: string[], input: Readable): Promise<PsqlRun> {
  const child = spawn(PSQL_PATH, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', ...args], { env: { ...process.env, ...path.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), TRANSFER_TIMEOUT_MS);
  let stdinBytes = 0;
  let stdoutBytes = 0;
  let stderr = '';

  child.stdout.on('data', (chunk: Buffer) => (stdoutBytes += chunk.length));
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
  input.on('data', (chunk: Buffer) => (stdinBytes += chunk.length));
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? 137)));

  await pipeline(input, child.stdin).catch(() => undefined);
  const code = await exited;
  clearTimeout(timer);
  if (code !== 0) {
    throw new Error(`psql ${args.join(' ').slice(0, 80)} through ${path.name} exited with ${code}: ${stderr.trim()}`);
  }
  return { stdinBytes, stdoutBytes };
}
