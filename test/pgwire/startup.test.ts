import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';

import {
  CANCEL_REQUEST_CODE,
  MAX_STARTUP_PACKET_BYTES,
  PROTOCOL_VERSION_3_0,
  PROTOCOL_VERSION_3_2,
  SSL_REQUEST_CODE,
} from '../../src/pgwire/constants.js';
import { encodeCancelRequest, encodeStartupMessage, readStartupPacket, type StartupReadResult } from '../../src/pgwire/startup.js';
import { WireError } from '../../src/pgwire/wire-error.js';
import { rawStartupPacket, startup, startupBody } from './message-builder.js';

const PAIRS: Array<[string, string]> = [
  ['user', 'alice'],
  ['database', 'orders'],
  ['application_name', 'psql'],
  ['options', '-c search_path=app'],
];

function reason(result: StartupReadResult): string {
  return result.state === 'invalid' ? result.reason : `not invalid but ${result.state}`;
}

describe('readStartupPacket framing', () => {
  const packet = startup.message(PAIRS);

  it('returns incomplete for every proper prefix', () => {
    for (let length = 0; length < packet.length; length += 1) {
      expect(readStartupPacket(packet.subarray(0, length)), `prefix of ${length} bytes`).toEqual({ state: 'incomplete' });
    }
  });

  it('reads a StartupMessage', () => {
    const result = readStartupPacket(packet);

    expect(result).toEqual({
      state: 'complete',
      length: packet.length,
      packet: { kind: 'startup', protocolVersion: PROTOCOL_VERSION_3_0, parameters: new Map(PAIRS) },
    });
  });

  it('leaves bytes after the packet', () => {
    const result = readStartupPacket(Buffer.concat([packet, Buffer.from('Q\0\0\0\x05x')]));

    expect(result).toEqual(readStartupPacket(packet));
  });

  it('keeps the minor protocol version', () => {
    const packet = startup.message([['user', 'bob']], PROTOCOL_VERSION_3_2);

    expect(readStartupPacket(packet)).toEqual({
      state: 'complete',
      length: packet.length,
      packet: { kind: 'startup', protocolVersion: PROTOCOL_VERSION_3_2, parameters: new Map([['user', 'bob']]) },
    });
  });

  it('reads UTF-8 names and values', () => {
    const packet = startup.message([['user', 'jürgen'], ['application_name', 'レポート']]);

    expect(readStartupPacket(packet)).toEqual({
      state: 'complete',
      length: packet.length,
      packet: { kind: 'startup', protocolVersion: PROTOCOL_VERSION_3_0, parameters: new Map([['user', 'jürgen'], ['application_name', 'レポート']]) },
    });
  });

  it('reads a packet of the maximum size', () => {
    const filler = 'x'.repeat(MAX_STARTUP_PACKET_BYTES - startup.message([['user', 'a'], ['options', '']]).length);
    const packet = startup.message([['user', 'a'], ['options', filler]]);

    expect(packet.length).toBe(MAX_STARTUP_PACKET_BYTES);
    expect(readStartupPacket(packet).state).toBe('complete');
  });
});

describe('readStartupPacket requests', () => {
  it('reads SSLRequest', () => {
    expect(readStartupPacket(startup.ssl())).toEqual({ state: 'complete', packet: { kind: 'ssl' }, length: 8 });
  });

  it('reads GSSENCRequest', () => {
    expect(readStartupPacket(startup.gssenc())).toEqual({ state: 'complete', packet: { kind: 'gssenc' }, length: 8 });
  });

  it('reads SSLRequest prefixes as incomplete', () => {
    const packet = startup.ssl();
    for (let length = 0; length < packet.length; length += 1) {
      expect(readStartupPacket(packet.subarray(0, length)), `prefix of ${length} bytes`).toEqual({ state: 'incomplete' });
    }
  });

  it('reads CancelRequest with a 4-byte key', () => {
    const key = Buffer.from([1, 2, 3, 4]);
    const result = readStartupPacket(startup.cancel(4242, key));

    expect(result).toEqual({ state: 'complete', length: 16, packet: { kind: 'cancel', processId: 4242, secretKey: key } });
  });

  it('reads CancelRequest with a 256-byte key', () => {
    const key = Buffer.alloc(256, 7);
    const result = readStartupPacket(startup.cancel(-5, key));

    expect(result).toEqual({ state: 'complete', length: 268, packet: { kind: 'cancel', processId: -5, secretKey: key } });
  });

  it('copies the cancel key', () => {
    const packet = startup.cancel(1, Buffer.from([9, 9, 9, 9]));
    const result = readStartupPacket(packet);
    packet.fill(0);

    expect(result).toEqual({ state: 'complete', length: 16, packet: { kind: 'cancel', processId: 1, secretKey: Buffer.from([9, 9, 9, 9]) } });
  });

  it('reads CancelRequest prefixes as incomplete', () => {
    const packet = startup.cancel(77, Buffer.alloc(32, 1));
    for (let length = 0; length < packet.length; length += 1) {
      expect(readStartupPacket(packet.subarray(0, length)), `prefix of ${length} bytes`).toEqual({ state: 'incomplete' });
    }
  });
});

describe('readStartupPacket length checks', () => {
  it('rejects a length below 8 from the length field alone', () => {
    const lengthField = Buffer.alloc(4);
    lengthField.writeInt32BE(7, 0);

    expect(reason(readStartupPacket(lengthField))).toContain('length 7 is outside the allowed 8..10000 bytes');
  });

  it('rejects a zero length', () => {
    expect(reason(readStartupPacket(Buffer.alloc(8)))).toContain('length 0');
  });

  it('rejects a negative length', () => {
    expect(reason(readStartupPacket(Buffer.from([0xff, 0xff, 0xff, 0xf0])))).toContain('length -16');
  });

  it('rejects a length above the maximum from the length field alone', () => {
    const lengthField = Buffer.alloc(4);
    lengthField.writeInt32BE(MAX_STARTUP_PACKET_BYTES + 1, 0);

    expect(reason(readStartupPacket(lengthField))).toContain('length 10001 is outside');
  });

  it('rejects a TLS ClientHello sent without SSLRequest', () => {
    expect(reason(readStartupPacket(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])))).toContain('is outside');
  });

  it('rejects SSLRequest with a body', () => {
    expect(reason(readStartupPacket(rawStartupPacket(SSL_REQUEST_CODE, Buffer.alloc(4))))).toBe('SSLRequest length is 12 bytes; expected 8');
  });

  it('rejects GSSENCRequest with a body', () => {
    expect(reason(readStartupPacket(rawStartupPacket(80877104, Buffer.alloc(1))))).toBe('GSSENCRequest length is 9 bytes; expected 8');
  });

  it('rejects a cancel key of 3 bytes', () => {
    expect(reason(readStartupPacket(startup.cancel(1, Buffer.alloc(3))))).toBe('CancelRequest secret key is 3 bytes; expected 4..256');
  });

  it('rejects a cancel key of 257 bytes', () => {
    expect(reason(readStartupPacket(startup.cancel(1, Buffer.alloc(257))))).toBe('CancelRequest secret key is 257 bytes; expected 4..256');
  });

  it('rejects CancelRequest without a process ID', () => {
    expect(reason(readStartupPacket(rawStartupPacket(CANCEL_REQUEST_CODE)))).toContain('secret key is -4 bytes');
  });

  it('rejects a bad cancel key before the body arrives', () => {
    const header = rawStartupPacket(CANCEL_REQUEST_CODE, Buffer.alloc(0), 8 + 4 + 300);

    expect(reason(readStartupPacket(header))).toContain('300 bytes');
  });
});

describe('readStartupPacket code checks', () => {
  it('rejects an unknown request code', () => {
    expect(reason(readStartupPacket(rawStartupPacket((1234 << 16) | 9999)))).toContain('unknown startup request code 80881423');
  });

  it('rejects protocol 2.0', () => {
    expect(reason(readStartupPacket(rawStartupPacket(2 << 16, startupBody([['user', 'a']]))))).toContain('unsupported frontend protocol 2.0; expected 3.x');
  });

  it('rejects protocol 4.0', () => {
    expect(reason(readStartupPacket(rawStartupPacket(4 << 16, startupBody([['user', 'a']]))))).toContain('unsupported frontend protocol 4.0');
  });

  it('rejects an unknown code before the body arrives', () => {
    const header = rawStartupPacket(5 << 16, Buffer.alloc(0), 5000);

    expect(reason(readStartupPacket(header))).toContain('unsupported frontend protocol 5.0');
  });
});

describe('readStartupPacket parameter checks', () => {
  const version = PROTOCOL_VERSION_3_0;

  it('rejects a list without its terminator', () => {
    const body = Buffer.from('user\0alice\0', 'utf8');

    expect(reason(readStartupPacket(rawStartupPacket(version, body)))).toBe('startup parameter list has no terminating zero byte');
  });

  it('rejects a name without its terminator', () => {
    const body = Buffer.from('user\0alice\0database', 'utf8');

    expect(reason(readStartupPacket(rawStartupPacket(version, body)))).toBe('startup parameter name at byte 19 has no terminating zero byte');
  });

  it('rejects a name without a value', () => {
    const body = Buffer.from('user\0alice\0database\0', 'utf8');

    expect(reason(readStartupPacket(rawStartupPacket(version, body)))).toBe('startup parameter "database" has no value');
  });

  it('rejects a value without its terminator', () => {
    const body = Buffer.from('user\0alice\0database\0orders', 'utf8');

    expect(reason(readStartupPacket(rawStartupPacket(version, body)))).toBe('startup parameter "database" has no value');
  });

  it('rejects an empty name inside the list', () => {
    const body = Buffer.from('user\0alice\0\0x\0\0', 'utf8');

    expect(reason(readStartupPacket(rawStartupPacket(version, body)))).toContain('ends at byte 19 of 23');
  });

  it('rejects bytes after the terminator', () => {
    const body = Buffer.concat([startupBody([['user', 'alice']]), Buffer.from('junk')]);

    expect(reason(readStartupPacket(rawStartupPacket(version, body)))).toContain('expected the terminating zero byte as the last byte');
  });

  it('rejects a missing user', () => {
    expect(reason(readStartupPacket(startup.message([['database', 'orders']])))).toContain('no "user" parameter');
  });

  it('rejects an empty user', () => {
    expect(reason(readStartupPacket(startup.message([['user', '']])))).toContain('no "user" parameter');
  });

  it('rejects an empty list', () => {
    expect(reason(readStartupPacket(startup.message([])))).toContain('no "user" parameter');
  });

  it('rejects a packet with no body', () => {
    expect(reason(readStartupPacket(rawStartupPacket(version)))).toBe('startup parameter list has no terminating zero byte');
  });

  it('rejects a duplicate name', () => {
    const packet = startup.message([['user', 'alice'], ['user', 'mallory']]);

    expect(reason(readStartupPacket(packet))).toBe('startup parameter "user" appears more than once');
  });

  it('rejects a value that is not UTF-8', () => {
    const body = Buffer.concat([Buffer.from('user\0', 'utf8'), Buffer.from([0xc3, 0x28]), Buffer.from('\0\0')]);

    expect(reason(readStartupPacket(rawStartupPacket(version, body)))).toBe('value of startup parameter "user" is not valid UTF-8');
  });

  it('rejects a name that is not UTF-8', () => {
    const body = Buffer.concat([Buffer.from([0xff]), Buffer.from('\0x\0user\0a\0\0')]);

    expect(reason(readStartupPacket(rawStartupPacket(version, body)))).toBe('startup parameter name at byte 8 is not valid UTF-8');
  });

  it('escapes control characters in reasons', () => {
    const packet = startup.message([['user', 'a'], ['bad\nname', 'x'], ['bad\nname', 'y']]);

    expect(reason(readStartupPacket(packet))).toBe('startup parameter "bad\\nname" appears more than once');
  });
});

describe('encodeStartupMessage', () => {
  it('round-trips through readStartupPacket', () => {
    const parameters = new Map(PAIRS);
    const encoded = encodeStartupMessage(PROTOCOL_VERSION_3_2, parameters);

    expect(readStartupPacket(encoded)).toEqual({
      state: 'complete',
      length: encoded.length,
      packet: { kind: 'startup', protocolVersion: PROTOCOL_VERSION_3_2, parameters },
    });
  });

  it('matches pg-protocol bytes', () => {
    const parameters = new Map([['user', 'alice'], ['database', 'orders'], ['client_encoding', 'UTF8']]);

    expect(encodeStartupMessage(PROTOCOL_VERSION_3_0, parameters)).toEqual(serialize.startup({ user: 'alice', database: 'orders' }));
  });

  it('matches the builder bytes', () => {
    expect(encodeStartupMessage(PROTOCOL_VERSION_3_0, new Map(PAIRS))).toEqual(startup.message(PAIRS));
  });

  it('rejects a zero byte in a value', () => {
    const encode = () => encodeStartupMessage(PROTOCOL_VERSION_3_0, new Map([['user', 'a\0database\0postgres']]));

    expect(encode).toThrow(WireError);
    expect(encode).toThrow('value of startup parameter "user" contains a zero byte');
  });

  it('rejects a zero byte in a name', () => {
    expect(() => encodeStartupMessage(PROTOCOL_VERSION_3_0, new Map([['us\0er', 'a']]))).toThrow('startup parameter name "us\\u0000er" contains a zero byte');
  });

  it('rejects an empty name', () => {
    expect(() => encodeStartupMessage(PROTOCOL_VERSION_3_0, new Map([['', 'a']]))).toThrow('startup parameter name is empty');
  });

  it('rejects a packet above the maximum', () => {
    const encode = () => encodeStartupMessage(PROTOCOL_VERSION_3_0, new Map([['user', 'a'], ['options', 'x'.repeat(10_000)]]));

    expect(encode).toThrow(WireError);
    expect(encode).toThrow('PostgreSQL accepts at most 10000');
  });

  it('rejects protocol 2.0', () => {
    expect(() => encodeStartupMessage(2 << 16, new Map([['user', 'a']]))).toThrow('protocol version 131072 is invalid');
  });

  it('rejects a request code as version', () => {
    expect(() => encodeStartupMessage(SSL_REQUEST_CODE, new Map([['user', 'a']]))).toThrow('protocol version 80877103 is invalid');
  });

  it('sets the error code', () => {
    const error = captureError(() => encodeStartupMessage(PROTOCOL_VERSION_3_0, new Map([['', 'a']])));

    expect(error).toBeInstanceOf(WireError);
    expect((error as WireError).code).toBe('protocol_violation');
  });
});

describe('encodeCancelRequest', () => {
  it('matches pg-protocol bytes for a 4-byte key', () => {
    const key = Buffer.alloc(4);
    key.writeInt32BE(123456789, 0);

    expect(encodeCancelRequest(4242, key)).toEqual(serialize.cancel(4242, 123456789));
  });

  it('round-trips a 32-byte key', () => {
    const key = Buffer.alloc(32, 0xab);
    const encoded = encodeCancelRequest(2_000_000_000, key);

    expect(readStartupPacket(encoded)).toEqual({
      state: 'complete',
      length: 44,
      packet: { kind: 'cancel', processId: 2_000_000_000, secretKey: key },
    });
  });

  it('rejects a 3-byte key', () => {
    expect(() => encodeCancelRequest(1, Buffer.alloc(3))).toThrow('cancel secret key is 3 bytes; expected 4..256');
  });

  it('rejects a 257-byte key', () => {
    expect(() => encodeCancelRequest(1, Buffer.alloc(257))).toThrow('cancel secret key is 257 bytes; expected 4..256');
  });

  it('rejects a process ID above Int32', () => {
    expect(() => encodeCancelRequest(2 ** 31, Buffer.alloc(4))).toThrow('process ID 2147483648 is invalid');
  });

  it('rejects a fractional process ID', () => {
    expect(() => encodeCancelRequest(1.5, Buffer.alloc(4))).toThrow(WireError);
  });
});

function captureError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}
