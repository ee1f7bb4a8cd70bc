// Quoting for POSIX shells, so `eval "$(sdm connect NAME --env)"` sets
// exactly the values printed, whatever characters they hold.

/** Characters that need no quoting in a POSIX shell word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Returns `value` as one shell word: unchanged when safe, else in single quotes. */
export function shellQuote(value: string): string {
  if (SAFE_WORD.test(value)) {
    return value;
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Formats `export NAME=value …` with every value quoted as needed. */
export function exportLine(variables: Record<string, string>): string {
  const assignments = Object.entries(variables).map(([name, value]) => `${name}=${shellQuote(value)}`);
  return `export ${assignments.join(' ')}`;
}
