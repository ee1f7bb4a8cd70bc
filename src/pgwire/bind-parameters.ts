import { completeUtf8Length } from './utf8.js';

/** Maximum bytes kept of one bound value; longer values are cut and marked. */
export const MAX_PARAMETER_TEXT_BYTES = 1024;

const BINARY_FORMAT = 1;
const NULL_LENGTH = -1;

export interface BindParameters {
  statement: string;
  /** Text values as sent, binary values as `\x` hex, SQL NULL as null. */
  values: Array<string | null>;
  /** True when the body was cut before the last value, or a value was cut. */
  truncated: boolean;
}

/**
 * Reads the statement name and parameter values from the start of a Bind
 * message body. The body may be a prefix of the real one (the scanner copies
 * a bounded part), so reading stops quietly where the bytes end.
 */
export function parseBindParameters(body: Buffer, bodyTruncated: boolean): BindParameters {
  const reader = { offset: 0 };
  const portalEnd = body.indexOf(0, 0);
  const statementEnd = portalEnd === -1 ? -1 : body.indexOf(0, portalEnd + 1);
  if (statementEnd === -1) {
    return { statement: '', values: [], truncated: true };
  }

  const statement = body.toString('utf8', portalEnd + 1, statementEnd);
  reader.offset = statementEnd + 1;
  const formats = readInt16Array(body, reader);
  const count = readInt16(body, reader);
  if (formats === undefined || count === undefined) {
    return { statement, values: [], truncated: true };
  }

  const values: Array<string | null> = [];
  let truncated = bodyTruncated;
  for (let index = 0; index < count; index += 1) {
    const format = formatOf(formats, index);
    const value = readValue(body, reader, format === BINARY_FORMAT);
    if (value === undefined) {
      return { statement, values, truncated: true };
    }
    truncated ||= value.cut;
    values.push(value.text);
  }
  return { statement, values, truncated };
}

/** Returns a parameter's format code: none listed means text, one applies to all, else one each. */
function formatOf(formats: number[], index: number): number {
  if (formats.length === 0) {
    return 0;
  }
  if (formats.length === 1) {
    return formats[0];
  }
  return formats[index];
}

function readInt16(body: Buffer, reader: { offset: number }): number | undefined {
  if (reader.offset + 2 > body.length) {
    return undefined;
  }
  const value = body.readInt16BE(reader.offset);
  reader.offset += 2;
  return value;
}

function readInt16Array(body: Buffer, reader: { offset: number }): number[] | undefined {
  const count = readInt16(body, reader);
  if (count === undefined || count < 0 || reader.offset + 2 * count > body.length) {
    return undefined;
  }
  const values: number[] = [];
  for (let index = 0; index < count; index += 1) {
    values.push(readInt16(body, reader)!);
  }
  return values;
}

function readValue(body: Buffer, reader: { offset: number }, binary: boolean): { text: string | null; cut: boolean } | undefined {
  if (reader.offset + 4 > body.length) {
    return undefined;
  }
  const length = body.readInt32BE(reader.offset);
  reader.offset += 4;
  if (length === NULL_LENGTH) {
    return { text: null, cut: false };
  }
  if (length < 0 || reader.offset >= body.length && length > 0) {
    return undefined;
  }

  const available = Math.min(length, body.length - reader.offset, MAX_PARAMETER_TEXT_BYTES);
  const bytes = body.subarray(reader.offset, reader.offset + available);
  reader.offset += length;
  const cut = available < length;
  const text = binary ? `\\x${bytes.toString('hex')}` : bytes.toString('utf8', 0, cut ? completeUtf8Length(bytes, bytes.length) : bytes.length);
  return { text, cut };
}
