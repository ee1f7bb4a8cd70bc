import type http from 'node:http';

import { EventLoopPacer } from '../../event-loop-pacer.js';
import { MAX_API_BODY_BYTES, type ApiErrorBody, type ApiErrorCode } from '../../tunnel/admin-api.js';

/** An admin API failure with its HTTP status and stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  writeJsonHead(response, status, Buffer.byteLength(text));
  response.end(text);
}

function writeJsonHead(response: http.ServerResponse, status: number, byteLength: number): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': byteLength,
    'cache-control': 'no-store',
  });
}

const WRITE_PIECE_LENGTH = 64 * 1024;

/**
 * Sends a JSON body like sendJson, but encodes and writes an array one
 * element at a time and lets the event loop run every WORK_SLICE_MS. A
 * listing of long statements can be tens of MiB, and sending it in one step
 * held every relayed session for about 90 ms per 12 MiB.
 */
export async function sendJsonInSlices(response: http.ServerResponse, status: number, body: unknown): Promise<void> {
  if (!Array.isArray(body)) {
    sendJson(response, status, body);
    return;
  }

  // Elements are joined into pieces of about 64 Ki characters, so that the
  // response goes out in a few large writes.
  const pieces: string[] = [];
  let length = 0;
  let piece = '[';
  const pacer = new EventLoopPacer();
  for (const [index, element] of body.entries()) {
    piece += (index === 0 ? '' : ',') + (JSON.stringify(element) ?? 'null');
    if (piece.length >= WRITE_PIECE_LENGTH) {
      pieces.push(piece);
      length += Buffer.byteLength(piece);
      piece = '';
    }
    await pacer.pause();
  }
  pieces.push(piece + ']');
  length += Buffer.byteLength(piece) + 1;

  writeJsonHead(response, status, length);
  // Writing encrypts each piece at once, so the writes take turns with the
  // event loop too.
  for (const text of pieces.slice(0, -1)) {
    if (response.destroyed) {
      return;
    }
    response.write(text);
    await pacer.pause();
  }
  if (!response.destroyed) {
    response.end(pieces[pieces.length - 1]);
  }
}

export function sendError(response: http.ServerResponse, error: ApiError): void {
  const body: ApiErrorBody = { error: { code: error.code, message: error.message } };
  if (error.status === 413) {
    response.setHeader('connection', 'close');
  }
  if (error.field !== undefined) {
    body.error.field = error.field;
  }
  sendJson(response, error.status, body);
}

/** Reads a JSON request body of at most MAX_API_BODY_BYTES; an empty body reads as `{}`. */
export function readJsonBody(request: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;

    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_API_BODY_BYTES) {
        // Reading on and discarding lets the client receive the 413 instead of a reset connection.
        request.removeAllListeners('data');
        request.resume();
        reject(new ApiError(413, 'payload_too_large', `request body exceeds ${MAX_API_BODY_BYTES} bytes; a CA file for --ca-file must be smaller`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('error', reject);
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        resolve({});
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new ApiError(400, 'bad_request', 'request body is not valid JSON'));
      }
    });
  });
}

/** Reads the API token from `Authorization: Bearer TOKEN`. */
export function bearerToken(request: http.IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

export function requireString(body: unknown, field: string): string {
  const value = (body as Record<string, unknown> | null)?.[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new ApiError(400, 'invalid_value', `missing ${field}: expected a non-empty string`, field);
  }
  return value;
}
