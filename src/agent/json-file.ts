// Small JSON files of the client state, written so that a reader never sees
// half a file: the text goes to a temporary file with the final mode first,
// then a rename replaces the old file in one step.

import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { SdmError } from '../errors.js';

/** Reads and parses a JSON file; returns undefined when the file does not exist. */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }

  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new SdmError('corrupt_state_file', `${path} is not valid JSON`, {
      hint: `fix or delete ${path}; sdm recreates it`,
      cause: error,
    });
  }
}

/** Writes `value` as JSON to `path` with the given mode, replacing the file atomically. */
export async function writeJsonFile(path: string, value: unknown, mode: number): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, JSON.stringify(value, null, 2) + '\n', { mode, flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
