/** Maximum length of the excerpt of a rejected value that an error message quotes. */
export const MAX_QUOTED_VALUE_CHARS = 80;

/**
 * Quotes a rejected input value for an error message: strings in JSON form
 * (so control characters show as escapes), numbers and booleans in plain
 * quotes, anything else as its JSON text. Long values are cut to an excerpt.
 */
export function quoteValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') {
    text = JSON.stringify(value);
  } else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    text = `"${String(value)}"`;
  } else if (value === undefined) {
    text = 'undefined';
  } else {
    text = JSON.stringify(value) ?? String(value);
  }

  if (text.length <= MAX_QUOTED_VALUE_CHARS) {
    return text;
  }
  return `${text.slice(0, MAX_QUOTED_VALUE_CHARS)}…`;
}
