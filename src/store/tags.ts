// Resource tags: string keys and values, given as an object or as the text
// form `key=value,key2=value2` that the CLI and role tag grants use. Keys
// and values may not contain `,` and keys may not contain `=`, so every
// tag set round-trips through the text form.

import { ValidationError } from '../errors.js';
import { quoteValue } from './value-text.js';

export const MAX_TAG_KEY_CHARS = 128;
export const MAX_TAG_VALUE_CHARS = 256;
export const MAX_TAGS = 50;

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Validates tags given as an object of strings or as `k=v,k2=v2` text; returns a fresh object. */
export function parseTags(raw: unknown, field = 'tags'): Record<string, string> {
  const pairs = typeof raw === 'string' ? pairsFromText(raw, field) : pairsFromObject(raw, field);

  if (pairs.length > MAX_TAGS) {
    throw new ValidationError(field, `invalid ${field}: ${pairs.length} tags given, expected at most ${MAX_TAGS}`);
  }

  const tags: Record<string, string> = {};
  for (const [key, value] of pairs) {
    checkTagKey(key, field);
    checkTagValue(key, value, field);
    if (Object.hasOwn(tags, key)) {
      throw new ValidationError(field, `invalid ${field}: tag key ${quoteValue(key)} is given twice, expected unique keys`);
    }
    tags[key] = value;
  }
  return tags;
}

/** Parses one `key=value` tag, as a role's tag grant names it. */
export function parseTag(raw: unknown, field = 'tag'): { key: string; value: string } {
  if (typeof raw !== 'string' || !raw.includes('=') || raw.includes(',')) {
    throw new ValidationError(field, `invalid ${field} ${quoteValue(raw)}: expected one tag in the form key=value`);
  }

  const [[key, value]] = pairsFromText(raw, field);
  checkTagKey(key, field);
  checkTagValue(key, value, field);
  return { key, value };
}

/** Formats tags in the `k=v,k2=v2` text form. */
export function formatTags(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

function pairsFromText(text: string, field: string): Array<[string, string]> {
  if (text.trim() === '') {
    return [];
  }

  return text.split(',').map((item) => {
    const pair = item.trim();
    const equals = pair.indexOf('=');
    if (equals < 0) {
      throw new ValidationError(field, `invalid ${field} item ${quoteValue(pair)}: expected key=value`);
    }
    return [pair.slice(0, equals).trim(), pair.slice(equals + 1).trim()];
  });
}

function pairsFromObject(raw: unknown, field: string): Array<[string, string]> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ValidationError(field, `invalid ${field} ${quoteValue(raw)}: expected an object of string values or text key=value,key2=value2`);
  }

  return Object.entries(raw).map(([key, value]) => {
    if (typeof value !== 'string') {
      throw new ValidationError(field, `invalid ${field} value ${quoteValue(value)} for key ${quoteValue(key)}: expected a string`);
    }
    return [key, value];
  });
}

function checkTagKey(key: string, field: string): void {
  const badCharacter = /[=,]/.test(key) || CONTROL_CHARACTERS.test(key) || key.trim() !== key;
  if (key.length < 1 || key.length > MAX_TAG_KEY_CHARS || badCharacter) {
    throw new ValidationError(
      field,
      `invalid ${field} key ${quoteValue(key)}: expected 1 to ${MAX_TAG_KEY_CHARS} characters without "=", ",", control characters or surrounding spaces`,
    );
  }
}

function checkTagValue(key: string, value: string, field: string): void {
  const badCharacter = value.includes(',') || CONTROL_CHARACTERS.test(value) || value.trim() !== value;
  if (value.length > MAX_TAG_VALUE_CHARS || badCharacter) {
    throw new ValidationError(
      field,
      `invalid ${field} value ${quoteValue(value)} for key ${quoteValue(key)}: expected at most ${MAX_TAG_VALUE_CHARS} characters without ",", control characters or surrounding spaces`,
    );
  }
}
