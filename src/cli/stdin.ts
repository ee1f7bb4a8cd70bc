// Reading a secret piped to stdin, as `sdm login --token-stdin` does.

import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { InputStream } from './io.js';

/** Largest input read from stdin; an API token is far shorter. */
export const MAX_STDIN_BYTES = 64 * 1024;

/** Reads stdin to its end; throws when it exceeds MAX_STDIN_BYTES. */
export async function readAllInput(input: InputStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;

  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_STDIN_BYTES) {
      throw new SdmError('input_too_large', `stdin exceeds ${MAX_STDIN_BYTES} bytes; expected one API token`, { exitCode: ExitCode.USAGE });
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
