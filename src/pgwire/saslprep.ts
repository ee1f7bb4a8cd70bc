// SASLprep (RFC 4013) of a SCRAM password, following PostgreSQL's
// pg_saslprep() in src/common/saslprep.c: when a password cannot be
// prepared, PostgreSQL clients and servers both use the raw password, so
// a failed preparation is not an error here either.

type CodePointRange = readonly [first: number, last: number];

/** RFC 3454 table C.1.2, non-ASCII space characters, which SASLprep maps to U+0020. */
const NON_ASCII_SPACE_RANGES: readonly CodePointRange[] = [
  [0x00a0, 0x00a0],
  [0x1680, 0x1680],
  [0x2000, 0x200b],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];

/** RFC 3454 table B.1, characters commonly mapped to nothing. */
const MAPPED_TO_NOTHING_RANGES: readonly CodePointRange[] = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
];

/** Union of RFC 3454 tables C.1.2 and C.2.1 to C.9, the prohibited output of SASLprep. */
const PROHIBITED_RANGES: readonly CodePointRange[] = [
  [0x0000, 0x001f],
  [0x007f, 0x00a0],
  [0x0340, 0x0341],
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x1680, 0x1680],
  [0x180e, 0x180e],
  [0x2000, 0x200f],
  [0x2028, 0x202f],
  [0x205f, 0x2063],
  [0x206a, 0x206f],
  [0x2ff0, 0x2ffb],
  [0x3000, 0x3000],
  [0xd800, 0xf8ff],
  [0xfdd0, 0xfdef],
  [0xfeff, 0xfeff],
  [0xfff9, 0xffff],
  [0x1d173, 0x1d17a],
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f],
  [0xf0000, 0x10ffff],
];

/** Code points U+nFFFE and U+nFFFF of every plane are non-characters (RFC 3454 table C.4). */
const PLANE_NONCHARACTER_MASK = 0xfffe;

const ASCII_PATTERN = /^[\x00-\x7f]*$/;

/**
 * Prepares a password for SCRAM the way PostgreSQL does. An ASCII password
 * is returned unchanged. In any other password, non-ASCII spaces become
 * U+0020, characters mapped to nothing are removed, and the result is
 * NFKC-normalised. The raw password is returned when the mapped password is
 * empty or contains a prohibited character.
 *
 * NOTE: PostgreSQL also returns the raw password for code points unassigned
 * in Unicode 3.2 and for strings that break the bidirectional rule of RFC
 * 3454 section 6. This function does not check either, so such passwords are
 * normalised here and the SCRAM proof can differ from what the server expects.
 */
export function saslprep(password: string): string {
  if (ASCII_PATTERN.test(password)) {
    return password;
  }

  const mapped = mapCodePoints(password);
  if (mapped.length === 0 || mapped.some(isProhibited)) {
    return password;
  }

  return mapped.map((codePoint) => String.fromCodePoint(codePoint)).join('').normalize('NFKC');
}

function mapCodePoints(password: string): number[] {
  const mapped: number[] = [];

  for (const character of password) {
    const codePoint = character.codePointAt(0) ?? 0;
    if (inRanges(codePoint, NON_ASCII_SPACE_RANGES)) {
      mapped.push(0x20);
    } else if (!inRanges(codePoint, MAPPED_TO_NOTHING_RANGES)) {
      mapped.push(codePoint);
    }
  }

  return mapped;
}

// PostgreSQL checks the prohibited tables against the mapped characters
// before normalisation, and so does this function.
function isProhibited(codePoint: number): boolean {
  if ((codePoint & PLANE_NONCHARACTER_MASK) === PLANE_NONCHARACTER_MASK) {
    return true;
  }
  return inRanges(codePoint, PROHIBITED_RANGES);
}

function inRanges(codePoint: number, ranges: readonly CodePointRange[]): boolean {
  return ranges.some(([first, last]) => codePoint >= first && codePoint <= last);
}
