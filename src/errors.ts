import { ExitCode, type ExitCodeValue } from './exit-codes.js';

/**
 * Base of every error sdm raises on purpose. `code` is a stable string that
 * tests and JSON output use; `exitCode` is what the CLI exits with; `hint`
 * tells the user what to do next and is printed after the message.
 */
export class SdmError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;

  constructor(code: string, message: string, options: { exitCode?: ExitCodeValue; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.FAILURE;
    this.hint = options.hint;
  }
}

/** An input value that breaks a rule; names the field, the value and what is allowed. */
export class ValidationError extends SdmError {
  readonly field: string;

  constructor(field: string, message: string) {
    super('invalid_value', message, { exitCode: ExitCode.USAGE });
    this.field = field;
  }
}
