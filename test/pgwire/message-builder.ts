// Byte builders for pgwire tests: one factory per message, written from the
// protocol documentation rather than with the code under test. Well-formed
// frontend messages come from pg-protocol's serializer, which is what
// node-postgres sends; the raw factories build malformed input.

import { serialize } from 'pg-protocol';

export const frontend = {
  query: (text: string): Buffer => serialize.query(text),
  parse: (text: string, name = '', types: number[] = []): Buffer => serialize.parse({ text, name, types }),
  bind: (values: Array<string | Buffer | null> = []): Buffer => serialize.bind({ values }),
  describe: (): Buffer => serialize.describe({ type: 'P' }),
  execute: (): Buffer => serialize.execute({ rows: 0 }),
  sync: (): Buffer => serialize.sync(),
  flush: (): Buffer => serialize.flush(),
  close: (): Buffer => serialize.close({ type: 'S', name: 'stmt' }),
  copyData: (bytes: Buffer): Buffer => serialize.copyData(bytes),
  copyDone: (): Buffer => serialize.copyDone(),
  terminate: (): Buffer => serialize.end(),
};

/** Builds a message with any type byte, body and declared length (the length defaults to the true one). */
export function rawMessage(code: number | string, body: Buffer | string = Buffer.alloc(0), declaredLength?: number): Buffer {
  const bodyBytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const header = Buffer.alloc(5);
  header[0] = typeof code === 'string' ? code.charCodeAt(0) : code;
  header.writeInt32BE(declaredLength ?? bodyBytes.length + 4, 1);
  return Buffer.concat([header, bodyBytes]);
}

/** Builds a startup packet (Int32 length, Int32 code, body). The length defaults to the true one. */
export function rawStartupPacket(code: number, body: Buffer = Buffer.alloc(0), declaredLength?: number): Buffer {
  const header = Buffer.alloc(8);
  header.writeInt32BE(declaredLength ?? body.length + 8, 0);
  header.writeUInt32BE(code >>> 0, 4);
  return Buffer.concat([header, body]);
}

/** Builds a StartupMessage body from name/value pairs, with the list terminator. */
export function startupBody(pairs: Array<[string, string]>): Buffer {
  return Buffer.from(pairs.map(([name, value]) => `${name}\0${value}\0`).join('') + '\0', 'utf8');
}

export const startup = {
  message: (pairs: Array<[string, string]>, version = 196608): Buffer => rawStartupPacket(version, startupBody(pairs)),
  ssl: (): Buffer => rawStartupPacket(80877103),
  gssenc: (): Buffer => rawStartupPacket(80877104),
  cancel: (processId: number, secretKey: Buffer): Buffer => {
    const pid = Buffer.alloc(4);
    pid.writeInt32BE(processId, 0);
    return rawStartupPacket(80877102, Buffer.concat([pid, secretKey]));
  },
};

export const backend = {
  authentication: (type: number, extra: Buffer = Buffer.alloc(0)): Buffer => {
    const body = Buffer.alloc(4);
    body.writeInt32BE(type, 0);
    return rawMessage('R', Buffer.concat([body, extra]));
  },
  parameterStatus: (name: string, value: string): Buffer => rawMessage('S', `${name}\0${value}\0`),
  backendKeyData: (processId: number, secretKey: Buffer): Buffer => {
    const body = Buffer.alloc(4);
    body.writeInt32BE(processId, 0);
    return rawMessage('K', Buffer.concat([body, secretKey]));
  },
  readyForQuery: (status: string): Buffer => rawMessage('Z', status),
  error: (fields: Array<[string, string]>): Buffer =>
    rawMessage('E', fields.map(([type, value]) => `${type}${value}\0`).join('') + '\0'),
};

/** Returns every way to cut `input` into two chunks, the empty cuts included. */
export function twoChunkSplits(input: Buffer): Buffer[][] {
  const splits: Buffer[][] = [];
  for (let cut = 0; cut <= input.length; cut += 1) {
    splits.push([input.subarray(0, cut), input.subarray(cut)]);
  }
  return splits;
}

/** Returns `input` cut into chunks of one byte each. */
export function oneByteChunks(input: Buffer): Buffer[] {
  return [...input].map((_, index) => input.subarray(index, index + 1));
}
