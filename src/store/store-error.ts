import { SdmError } from '../errors.js';
import { ExitCode, type ExitCodeValue } from '../exit-codes.js';

export type StoreErrorCode = 'conflict' | 'not_found' | 'schema_too_new';

const EXIT_CODES: Record<StoreErrorCode, ExitCodeValue> = {
  conflict: ExitCode.CONFLICT,
  not_found: ExitCode.NOT_FOUND,
  schema_too_new: ExitCode.FAILURE,
};

/**
 * A change the store rejected because of what is already stored: a name or
 * port that collides (`conflict`), a record that does not exist
 * (`not_found`), or a database file written by a newer sdm
 * (`schema_too_new`). `field` names the input field at fault, when there is one.
 */
export class StoreError extends SdmError {
  readonly field?: string;

  constructor(code: StoreErrorCode, message: string, options: { field?: string; hint?: string; cause?: unknown } = {}) {
    super(code, message, { exitCode: EXIT_CODES[code], hint: options.hint, cause: options.cause });
    this.field = options.field;
  }
}
