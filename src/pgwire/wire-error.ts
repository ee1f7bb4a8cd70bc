import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';

/**
 * Bytes on a PostgreSQL connection that break the wire protocol, or a value
 * that cannot be encoded into a message. The node reports it with SQLSTATE
 * 08P01 (protocol_violation) and closes the connection.
 */
export class WireError extends SdmError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('protocol_violation', message, { exitCode: ExitCode.FAILURE, ...options });
  }
}

/**
 * A SCRAM-SHA-256 exchange that cannot complete: a malformed or unexpected
 * server message, or a server that has not proved knowledge of the password.
 */
export class ScramError extends SdmError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('scram_failed', message, { exitCode: ExitCode.AUTH, ...options });
  }
}
