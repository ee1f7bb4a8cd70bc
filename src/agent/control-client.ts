// The CLI side of the control socket: one connection per request.

import { createConnection } from 'node:net';
import { SdmError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';
import {
  MAX_CONTROL_RESPONSE_BYTES,
  type ConnectRequest,
  type ConnectResult,
  type ControlResponse,
  type ControlRequest,
  type DisconnectRequest,
  type DisconnectResult,
  type PingResult,
  type StatusResult,
} from './control-protocol.js';

/** Time the CLI waits for the agent's response to one request. */
export const CONTROL_REQUEST_TIMEOUT_MS = 15_000;

/** Raised when no agent listens on the control socket, or it sends no valid response. */
export class AgentUnreachableError extends SdmError {
  constructor(
    socketPath: string,
    /** The socket error code (ENOENT, ECONNREFUSED …) or what went wrong after connecting. */
    readonly reason: string,
  ) {
    super('agent_unreachable', `the agent at ${socketPath} did not respond: ${reason}`, {
      exitCode: ExitCode.UNREACHABLE,
      hint: 'run sdm connect NAME to start it, or sdm listen to run it in the foreground',
    });
  }

  /** True when no agent runs: the socket file is missing or nothing accepts on it. */
  get agentIsAbsent(): boolean {
    return this.reason === 'ENOENT' || this.reason === 'ECONNREFUSED';
  }
}

export class AgentClient {
  readonly socketPath: string;
  private readonly timeoutMs: number;

  constructor(socketPath: string, timeoutMs: number = CONTROL_REQUEST_TIMEOUT_MS) {
    this.socketPath = socketPath;
    this.timeoutMs = timeoutMs;
  }

  ping(): Promise<PingResult> {
    return this.request({ op: 'ping' }) as Promise<PingResult>;
  }

  connect(request: Omit<ConnectRequest, 'op'>): Promise<ConnectResult> {
    return this.request({ op: 'connect', ...request }) as Promise<ConnectResult>;
  }

  disconnect(request: Omit<DisconnectRequest, 'op'>): Promise<DisconnectResult> {
    return this.request({ op: 'disconnect', ...request }) as Promise<DisconnectResult>;
  }

  status(): Promise<StatusResult> {
    return this.request({ op: 'status' }) as Promise<StatusResult>;
  }

  async shutdown(): Promise<void> {
    await this.request({ op: 'shutdown' });
  }

  /** Returns true when an agent responds to a ping. */
  async isRunning(): Promise<boolean> {
    try {
      await this.ping();
      return true;
    } catch (error) {
      if (error instanceof AgentUnreachableError) {
        return false;
      }
      throw error;
    }
  }

  /** Sends one request and returns its result, or throws the agent's error as an SdmError. */
  async request(request: ControlRequest): Promise<unknown> {
    const line = await this.exchange(JSON.stringify(request) + '\n');

    let response: ControlResponse;
    try {
      response = JSON.parse(line) as ControlResponse;
    } catch {
      throw new AgentUnreachableError(this.socketPath, 'its response is not valid JSON');
    }

    if (response.ok) {
      return response.result;
    }
    const { code, message, hint, exitCode } = response.error;
    throw new SdmError(code, message, { hint, exitCode: exitCode as ExitCodeValue });
  }

  private exchange(text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(this.socketPath);
      let received = '';

      const fail = (cause: string): void => {
        socket.destroy();
        reject(new AgentUnreachableError(this.socketPath, cause));
      };

      socket.setEncoding('utf8');
      socket.setTimeout(this.timeoutMs, () => fail(`no response within ${this.timeoutMs} ms (timed out)`));
      socket.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? error.message));
      socket.once('connect', () => socket.write(text));
      socket.on('end', () => fail('it closed the connection without a response'));

      socket.on('data', (chunk: string) => {
        received += chunk;
        const newline = received.indexOf('\n');
        if (newline >= 0) {
          socket.end();
          socket.removeAllListeners('end');
          resolve(received.slice(0, newline));
        } else if (received.length > MAX_CONTROL_RESPONSE_BYTES) {
          fail(`its response exceeds ${MAX_CONTROL_RESPONSE_BYTES} bytes`);
        }
      });
    });
  }
}
