// Checks on the names of users and roles before the store keeps them.

import { ValidationError } from '../errors.js';
import { quoteValue } from './value-text.js';

/** Maximum email length, the usual limit for an address in an SMTP path. */
export const MAX_EMAIL_CHARS = 254;

export const MAX_ROLE_NAME_CHARS = 64;

// Quotes and angle brackets are valid in some quoted local parts, but are refused here because emails appear in tables and logs.
const EMAIL_PATTERN = /^[^\s@"'<>`]+@[^\s@"'<>`]+$/;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
const ROLE_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** Checks that a user's email has one `@` with text on each side and no spaces; returns it trimmed. */
export function validateEmail(raw: unknown): string {
  const email = typeof raw === 'string' ? raw.trim() : raw;
  const valid =
    typeof email === 'string' &&
    email.length <= MAX_EMAIL_CHARS &&
    EMAIL_PATTERN.test(email) &&
    !CONTROL_CHARACTERS.test(email);

  if (!valid) {
    throw new ValidationError('email', `invalid email ${quoteValue(raw)}: expected an address like name@example.com, at most ${MAX_EMAIL_CHARS} characters`);
  }
  return email;
}

/** Checks that a role name is 1 to 64 letters, digits, `-`, `_` or `.`, and not dots alone. */
export function validateRoleName(raw: unknown, field = 'role'): string {
  // A name of dots alone would be a `.` or `..` segment in the admin API path, which URLs collapse.
  const onlyDots = typeof raw === 'string' && /^\.+$/.test(raw);
  if (typeof raw !== 'string' || raw.length > MAX_ROLE_NAME_CHARS || !ROLE_NAME_PATTERN.test(raw) || onlyDots) {
    throw new ValidationError(
      field,
      `invalid role name ${quoteValue(raw)}: expected 1 to ${MAX_ROLE_NAME_CHARS} letters, digits, "-", "_" or ".", not dots alone`,
    );
  }
  return raw;
}
