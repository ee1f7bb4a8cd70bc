import type net from 'node:net';

import { errorResponse } from '../pgwire/backend-messages.js';
import type { FrontendScanner } from '../pgwire/frontend-scanner.js';
import { MessageBoundaryTracker } from './message-boundary.js';
import type { SessionError } from './session-error.js';

/** Time a half-closed side gets to flush before both sockets are destroyed. */
export const CLOSE_GRACE_MS = 5_000;

/** Time `terminate()` waits for the server to finish its current message. */
export const TERMINATE_WAIT_MS = 2_000;

export interface RelayEnd {
  bytesToServer: number;
  bytesToClient: number;
  /** Cause of the end, when it was not a clean close by either side. */
  error?: Error;
}

export interface RelayOptions {
  client: net.Socket;
  server: net.Socket;
  /** Scanner of client messages for the audit log; absent when auditing is off. */
  scanner?: FrontendScanner;
  /** Bytes the server sent past its first ReadyForQuery during login. */
  serverLeftover: Buffer;
  /** Bytes the client sent past its StartupMessage. */
  clientLeftover: Buffer;
  onEnd(end: RelayEnd): void;
}

/**
 * Passes bytes both ways between the client and the database server after
 * login, honouring backpressure in both directions. Server bytes are never
 * parsed: the relay only follows message headers so that `terminate()` can
 * insert an ErrorResponse between two messages. Client bytes go through the
 * audit scanner, which reads headers and copies only statement text.
 */
export class Relay {
  bytesToServer = 0;
  bytesToClient = 0;

  private readonly boundary = new MessageBoundaryTracker();
  private pendingTermination?: SessionError;
  private ended = false;
  private endError?: Error;
  private graceTimer?: NodeJS.Timeout;

  constructor(private readonly options: RelayOptions) {}

  start(): void {
    const { client, server } = this.options;

    client.on('data', this.onClientData);
    server.on('data', this.onServerData);
    client.on('end', () => server.end());
    server.on('end', () => client.end());
    client.on('error', (error) => this.finish(error));
    server.on('error', (error) => this.finish(error));
    client.on('close', () => this.onSideClosed(server));
    server.on('close', () => this.onSideClosed(client));

    if (this.options.serverLeftover.length > 0) {
      this.onServerData(this.options.serverLeftover);
    }
    if (this.options.clientLeftover.length > 0) {
      this.onClientData(this.options.clientLeftover);
    }
    client.resume();
    server.resume();
  }

  /**
   * Ends the session with the given error: the server's message in flight is
   * delivered whole, then the client gets the ErrorResponse, then both close.
   */
  terminate(error: SessionError): void {
    if (this.ended || this.pendingTermination) {
      return;
    }
    this.pendingTermination = error;
    this.options.client.off('data', this.onClientData);

    if (this.boundary.atBoundary()) {
      this.sendTerminationAndClose();
      return;
    }
    setTimeout(() => this.finish(error), TERMINATE_WAIT_MS).unref();
  }

  private readonly onClientData = (chunk: Buffer) => {
    const { scanner, client, server } = this.options;

    const problem = scanner?.scan(chunk);
    if (problem) {
      this.finishWithClientError(problem.sqlstate, `sdm: ${problem.message}`);
      return;
    }

    this.bytesToServer += chunk.length;
    if (!server.write(chunk)) {
      client.pause();
      server.once('drain', () => client.resume());
    }
  };

  private readonly onServerData = (chunk: Buffer) => {
    const { client, server } = this.options;

    if (this.pendingTermination) {
      const end = this.boundary.advance(chunk, true);
      this.forwardToClient(chunk.subarray(0, end));
      if (this.boundary.atBoundary()) {
        this.sendTerminationAndClose();
      }
      return;
    }

    this.boundary.advance(chunk);
    this.bytesToClient += chunk.length;
    if (!client.write(chunk)) {
      server.pause();
      client.once('drain', () => server.resume());
    }
  };

  private forwardToClient(bytes: Buffer): void {
    if (bytes.length > 0) {
      this.bytesToClient += bytes.length;
      this.options.client.write(bytes);
    }
  }

  private sendTerminationAndClose(): void {
    const error = this.pendingTermination!;
    this.options.server.off('data', this.onServerData);
    this.options.client.end(error.toErrorResponse());
    this.options.server.destroy();
    this.finish(error);
  }

  private finishWithClientError(sqlstate: string, message: string): void {
    const error = new Error(message);
    this.options.client.off('data', this.onClientData);
    this.options.server.destroy();
    if (this.boundary.atBoundary()) {
      this.options.client.end(errorResponse({ severity: 'FATAL', code: sqlstate, message }));
    } else {
      this.options.client.destroy();
    }
    this.finish(error);
  }

  private onSideClosed(other: net.Socket): void {
    if (!other.destroyed) {
      other.end();
      this.graceTimer ??= setTimeout(() => other.destroy(), CLOSE_GRACE_MS).unref();
    }
    this.finish();
  }

  private finish(error?: Error): void {
    if (error) {
      this.endError ??= error;
      this.closeBoth();
    }
    this.maybeReport();
  }

  /** Destroys the server side now; the client side too, unless it is flushing a final message. */
  private closeBoth(): void {
    const { client, server } = this.options;
    server.destroy();
    if (client.writableEnded) {
      this.graceTimer ??= setTimeout(() => client.destroy(), CLOSE_GRACE_MS).unref();
    } else {
      client.destroy();
    }
  }

  private maybeReport(): void {
    const { client, server } = this.options;
    if (this.ended || !client.destroyed || !server.destroyed) {
      return;
    }
    this.ended = true;
    if (this.graceTimer) {
      clearTimeout(this.graceTimer);
    }
    this.options.onEnd({ bytesToServer: this.bytesToServer, bytesToClient: this.bytesToClient, error: this.endError });
  }
}
