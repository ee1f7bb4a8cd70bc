/** Maximum number of continuation bytes (10xxxxxx) after the lead byte of one UTF-8 character. */
const MAX_CONTINUATION_BYTES = 3;

/**
 * Returns how many of the first `length` bytes of `bytes` end on a UTF-8
 * character boundary, so text cut at `length` can drop a partial last
 * character instead of decoding it as U+FFFD. Bytes that are not valid UTF-8
 * are left as they are.
 */
export function completeUtf8Length(bytes: Buffer, length: number): number {
  let lead = length - 1;
  while (lead >= 0 && length - 1 - lead < MAX_CONTINUATION_BYTES && isContinuationByte(bytes[lead])) {
    lead -= 1;
  }
  if (lead < 0) {
    return length;
  }

  const characterBytes = utf8SequenceLength(bytes[lead]);
  return lead + characterBytes > length ? lead : length;
}

function isContinuationByte(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

// Length of the sequence a lead byte starts; 1 for ASCII and for bytes that cannot lead.
function utf8SequenceLength(lead: number): number {
  if (lead >= 0xf0 && lead <= 0xf7) {
    return 4;
  }
  if (lead >= 0xe0) {
    return lead <= 0xef ? 3 : 1;
  }
  return lead >= 0xc0 ? 2 : 1;
}
