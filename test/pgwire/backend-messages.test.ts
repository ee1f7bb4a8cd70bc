import { Readable } from 'node:stream';

import { DatabaseError, parse } from 'pg-protocol';
import { describe, expect, it } from 'vitest';

import {
  authenticationOk,
  backendKeyData,
  errorResponse,
  noticeResponse,
  parameterStatus,
  parseErrorFields,
  readyForQuery,
  sslRefused,
} from '../../src/pgwire/backend-messages.js';
import { WireError } from '../../src/pgwire/wire-error.js';
import { backend } from './message-builder.js';

/** Parses backend bytes with pg-protocol, the parser node-postgres uses. */
async function parseWithPgProtocol(bytes: Buffer): Promise<object[]> {
  const messages: object[] = [];
  await parse(Readable.from([bytes]), (message) => messages.push(message));
  return messages;
}

describe('errorResponse', () => {
  it('parses in pg-protocol', async () => {
    const bytes = errorResponse({ severity: 'FATAL', code: '28000', message: 'access denied', detail: 'role "x"', hint: 'ask an admin' });
    const [message] = await parseWithPgProtocol(bytes);

    expect(message).toBeInstanceOf(DatabaseError);
    expect((message as DatabaseError).message).toBe('access denied');
    expect(message).toMatchObject({ name: 'error', severity: 'FATAL', code: '28000', detail: 'role "x"', hint: 'ask an admin', length: bytes.length - 1 });
  });

  it('writes the fields in order', () => {
    const bytes = errorResponse({ code: '08P01', message: 'bad' });

    expect(bytes.toString('latin1')).toBe('E\0\0\0\x1fSERROR\0VERROR\0C08P01\0Mbad\0\0');
  });

  it('defaults the severity to ERROR', () => {
    expect(parseErrorFields(errorResponse({ code: 'XX000', message: 'm' }).subarray(5)).get('S')).toBe('ERROR');
  });

  it('writes the non-localised severity', () => {
    expect(parseErrorFields(errorResponse({ severity: 'FATAL', code: 'XX000', message: 'm' }).subarray(5)).get('V')).toBe('FATAL');
  });

  it('leaves out absent detail and hint', () => {
    const fields = parseErrorFields(errorResponse({ code: 'XX000', message: 'm' }).subarray(5));

    expect([...fields.keys()]).toEqual(['S', 'V', 'C', 'M']);
  });

  it('writes UTF-8 text', () => {
    const fields = parseErrorFields(errorResponse({ code: '3D000', message: 'database "données" does not exist' }).subarray(5));

    expect(fields.get('M')).toBe('database "données" does not exist');
  });

  it('replaces a zero byte in the message', () => {
    const fields = parseErrorFields(errorResponse({ code: 'XX000', message: 'a\0b', hint: 'c\0' }).subarray(5));

    expect(fields.get('M')).toBe('a\uFFFDb');
    expect(fields.get('H')).toBe('c\uFFFD');
  });

  it('rejects a code that is not an SQLSTATE', () => {
    const write = () => errorResponse({ code: '8P01', message: 'm' });

    expect(write).toThrow(WireError);
    expect(write).toThrow('SQLSTATE "8P01" is invalid');
  });

  it('rejects a lower-case SQLSTATE', () => {
    expect(() => errorResponse({ code: '08p01', message: 'm' })).toThrow('SQLSTATE "08p01" is invalid');
  });
});

describe('noticeResponse', () => {
  it('parses in pg-protocol', async () => {
    const [message] = await parseWithPgProtocol(noticeResponse({ severity: 'WARNING', code: '01000', message: 'session ends soon' }));

    expect((message as DatabaseError).message).toBe('session ends soon');
    expect(message).toMatchObject({ name: 'notice', severity: 'WARNING', code: '01000' });
  });

  it('defaults the severity to NOTICE', () => {
    expect(parseErrorFields(noticeResponse({ code: '00000', message: 'm' }).subarray(5)).get('S')).toBe('NOTICE');
  });

  it('starts with N', () => {
    expect(noticeResponse({ code: '00000', message: 'm' })[0]).toBe(0x4e);
  });
});

describe('other backend messages', () => {
  it('writes authenticationOk', async () => {
    const bytes = authenticationOk();

    expect(bytes).toEqual(backend.authentication(0));
    expect(await parseWithPgProtocol(bytes)).toEqual([{ name: 'authenticationOk', length: 8 }]);
  });

  it('writes backendKeyData', async () => {
    const key = Buffer.alloc(4);
    key.writeInt32BE(987654321, 0);
    const bytes = backendKeyData(31337, key);

    expect(bytes).toEqual(backend.backendKeyData(31337, key));
    expect(await parseWithPgProtocol(bytes)).toEqual([{ name: 'backendKeyData', length: 12, processID: 31337, secretKey: 987654321 }]);
  });

  it('writes a 32-byte key', () => {
    const key = Buffer.alloc(32, 0x5a);

    expect(backendKeyData(-1, key)).toEqual(backend.backendKeyData(-1, key));
  });

  it('rejects a 2-byte key', () => {
    expect(() => backendKeyData(1, Buffer.alloc(2))).toThrow('cancel secret key is 2 bytes; expected 4..256');
  });

  it('rejects a process ID above Int32', () => {
    expect(() => backendKeyData(2 ** 32, Buffer.alloc(4))).toThrow('process ID 4294967296 is invalid');
  });

  it('writes parameterStatus', async () => {
    const bytes = parameterStatus('server_version', '16.4');

    expect(bytes).toEqual(backend.parameterStatus('server_version', '16.4'));
    expect(await parseWithPgProtocol(bytes)).toEqual([
      { name: 'parameterStatus', length: 24, parameterName: 'server_version', parameterValue: '16.4' },
    ]);
  });

  it('rejects a zero byte in a parameter value', () => {
    expect(() => parameterStatus('application_name', 'a\0b')).toThrow('value of parameter "application_name" contains a zero byte');
  });

  it('writes readyForQuery for each status', async () => {
    for (const status of ['I', 'T', 'E'] as const) {
      expect(await parseWithPgProtocol(readyForQuery(status)), status).toEqual([{ name: 'readyForQuery', length: 5, status }]);
    }
  });

  it('rejects an unknown transaction status', () => {
    expect(() => readyForQuery('X' as 'I')).toThrow('transaction status "X" is invalid');
  });

  it('writes sslRefused as N', () => {
    expect(sslRefused()).toEqual(Buffer.from('N'));
  });
});

describe('parseErrorFields', () => {
  it('reads a server error', () => {
    const message = backend.error([
      ['S', 'FATAL'],
      ['V', 'FATAL'],
      ['C', '28P01'],
      ['M', 'password authentication failed for user "app"'],
      ['R', 'auth_failed'],
    ]);

    expect(parseErrorFields(message.subarray(5))).toEqual(
      new Map([
        ['S', 'FATAL'],
        ['V', 'FATAL'],
        ['C', '28P01'],
        ['M', 'password authentication failed for user "app"'],
        ['R', 'auth_failed'],
      ]),
    );
  });

  it('reads an empty field list', () => {
    expect(parseErrorFields(Buffer.from([0]))).toEqual(new Map());
  });

  it('rejects an empty body', () => {
    expect(() => parseErrorFields(Buffer.alloc(0))).toThrow('error field list of 0 bytes has no terminating zero byte');
  });

  it('rejects a field without its terminator', () => {
    const parse = () => parseErrorFields(Buffer.from('SERROR\0Mtext', 'latin1'));

    expect(parse).toThrow(WireError);
    expect(parse).toThrow("error field 'M' at byte 7 has no terminating zero byte");
  });

  it('rejects a list without its terminator', () => {
    expect(() => parseErrorFields(Buffer.from('SERROR\0', 'latin1'))).toThrow('error field list of 7 bytes has no terminating zero byte');
  });
});
