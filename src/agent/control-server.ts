// The agent side of the control socket. Requests on one connection are
// handled one after another, and each response is one JSON line.

import { chmod, rm, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { PRIVATE_FILE_MODE } from './home.js';
import {
  errorToResponse,
  CONTROL_RESPONSE_TOO_LARGE,
  MAX_CONTROL_LINE_BYTES,
  MAX_CONTROL_RESPONSE_BYTES,
  parseControlRequest,
  type ControlResponse,
  type ControlRequest,
} from './control-protocol.js';

/** Time a control connection may stay idle before the agent closes it. */
export const CONTROL_IDLE_TIMEOUT_MS = 60_000;

/** Time the agent waits for a connection to an existing socket before treating it as stale. */
const STALE_SOCKET_PROBE_MS = 1_000;

/** Handles one request; returns the result, or throws an error that becomes the response. */
export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

export interface ControlServer {
  /** Stops listening, ends open control connections and removes the socket file. */
  close(): Promise<void>;
}

/**
 * Listens on the Unix socket at `path` with mode 0600. A socket file left by
 * an agent that died is removed. A socket that still accepts connections
 * belongs to a running agent, so starting a second one is an error.
 */
export async function listenControlSocket(path: string, handler: ControlHandler, logger: Logger): Promise<ControlServer> {
  await removeStaleSocket(path);

  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    serveConnection(socket, handler, logger);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });

  try {
    await chmod(path, PRIVATE_FILE_MODE);
  } catch (error) {
    // A server left listening would keep the agent's process alive after start-up failed.
    await closeServer(server, connections, path);
    throw error;
  }
  return { close: () => closeServer(server, connections, path) };
}

async function closeServer(server: Server, connections: Set<Socket>, path: string): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const socket of connections) {
    socket.end();
    socket.destroySoon();
  }
  await closed;
  await rm(path, { force: true });
}

function serveConnection(socket: Socket, handler: ControlHandler, logger: Logger): void {
  let buffered = '';
  let queue = Promise.resolve();

  socket.setTimeout(CONTROL_IDLE_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', (error) => logger.debug({ err: error }, 'control connection failed'));
  socket.setEncoding('utf8');

  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      if (Buffer.byteLength(buffered.slice(0, newline)) > MAX_CONTROL_LINE_BYTES) {
        rejectLongLine(socket);
        return;
      }
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      queue = queue.then(() => respondToLine(socket, line, handler, logger));
      newline = buffered.indexOf('\n');
    }

    if (Buffer.byteLength(buffered) > MAX_CONTROL_LINE_BYTES) {
      rejectLongLine(socket);
    }
  });
}

function rejectLongLine(socket: Socket): void {
  const response = errorToResponse(new SdmError('bad_request', `control request exceeds ${MAX_CONTROL_LINE_BYTES} bytes`));
  socket.end(JSON.stringify(response) + '\n');
  socket.removeAllListeners('data');
}

async function respondToLine(socket: Socket, line: string, handler: ControlHandler, logger: Logger): Promise<void> {
  let text = JSON.stringify(await handleLine(line, handler, logger));
  if (text.length > MAX_CONTROL_RESPONSE_BYTES) {
    logger.info({ length: text.length }, 'control response too large; sent an error instead');
    const error = new SdmError(CONTROL_RESPONSE_TOO_LARGE, `the agent's response of ${text.length} characters exceeds the control socket's ${MAX_CONTROL_RESPONSE_BYTES}`);
    text = JSON.stringify(errorToResponse(error));
  }
  if (!socket.destroyed) {
    socket.write(text + '\n');
  }
}

async function handleLine(line: string, handler: ControlHandler, logger: Logger): Promise<ControlResponse> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return errorToResponse(new SdmError('bad_request', 'control request is not valid JSON', { exitCode: ExitCode.USAGE }));
  }

  const request = parseControlRequest(value);
  if (typeof request === 'string') {
    return errorToResponse(new SdmError('bad_request', request, { exitCode: ExitCode.USAGE }));
  }

  try {
    return { ok: true, result: await handler(request) };
  } catch (error) {
    logger.warn({ op: request.op, err: error }, 'control request failed');
    return errorToResponse(error);
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  if (await socketAccepts(path)) {
    throw new SdmError('agent_running', `another agent already listens on ${path}`, {
      hint: 'use the running agent, or stop it first with sdm listen --stop',
    });
  }

  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw error;
    }
  }
}

function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    const finish = (accepted: boolean): void => {
      probe.destroy();
      resolve(accepted);
    };
    probe.setTimeout(STALE_SOCKET_PROBE_MS, () => finish(false));
    probe.once('connect', () => finish(true));
    probe.once('error', () => finish(false));
  });
}
