import { SdmError } from '../errors.js';
import { errorResponse } from '../pgwire/backend-messages.js';

/**
 * A failure that the PostgreSQL client is informed of. It carries the SQLSTATE
 * the client sees; the message names the resource and the cause and never
 * holds a token. `serverError` holds the raw ErrorResponse of the server when
 * the server itself refused, so the client gets the server's own words.
 */
export class SessionError extends SdmError {
  readonly sqlstate: string;
  readonly serverError?: Buffer;

  constructor(code: string, sqlstate: string, message: string, options: { serverError?: Buffer; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.sqlstate = sqlstate;
    this.serverError = options.serverError;
  }

  /** Returns the bytes to send the client: the server's own ErrorResponse, or one built from this error. */
  toErrorResponse(): Buffer {
    return this.serverError ?? errorResponse({ severity: 'FATAL', code: this.sqlstate, message: this.message });
  }
}
