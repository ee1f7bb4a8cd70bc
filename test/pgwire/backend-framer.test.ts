import { describe, expect, it } from 'vitest';

import { BackendFramer, DEFAULT_MAX_BACKEND_MESSAGE_BYTES, type FramedMessage } from '../../src/pgwire/backend-framer.js';
import { WireError } from '../../src/pgwire/wire-error.js';
import { backend, oneByteChunks, rawMessage, twoChunkSplits } from './message-builder.js';

const GREETING = [
  backend.authentication(0),
  backend.parameterStatus('server_version', '16.4'),
  backend.parameterStatus('client_encoding', 'UTF8'),
  backend.backendKeyData(4242, Buffer.alloc(32, 7)),
  backend.readyForQuery('I'),
];
const LEFTOVER = Buffer.from('T\0\0\0\x06\0\0D', 'latin1');
const STREAM = Buffer.concat([...GREETING, LEFTOVER]);

/** Pushes chunks, calling next() after each push the way a socket reader does, until ReadyForQuery. */
function frame(chunks: Buffer[], framer = new BackendFramer()): { messages: FramedMessage[]; rest: Buffer } {
  const messages: FramedMessage[] = [];
  let ready = false;

  for (const chunk of chunks) {
    framer.push(chunk);
    while (!ready) {
      const message = framer.next();
      if (!message) {
        break;
      }
      messages.push(message);
      ready = message.code === 'Z';
    }
  }
  return { messages, rest: framer.rest() };
}

function expectGreeting(result: { messages: FramedMessage[]; rest: Buffer }, label: string): void {
  expect(result.messages.map((message) => message.code), label).toEqual(['R', 'S', 'S', 'K', 'Z']);
  expect(result.messages.map((message) => message.raw), label).toEqual(GREETING);
  expect(result.messages.map((message) => message.body), label).toEqual(GREETING.map((raw) => raw.subarray(5)));
  expect(result.rest, label).toEqual(LEFTOVER);
}

describe('BackendFramer framing', () => {
  it('reads a greeting in one chunk', () => {
    expectGreeting(frame([STREAM]), 'one chunk');
  });

  it('reads a greeting at every split point', () => {
    for (const chunks of twoChunkSplits(STREAM)) {
      expectGreeting(frame(chunks), `split at ${chunks[0].length}`);
    }
  });

  it('reads a greeting in one-byte chunks', () => {
    expectGreeting(frame(oneByteChunks(STREAM)), 'one-byte chunks');
  });

  it('returns undefined before a message is complete', () => {
    const framer = new BackendFramer();
    framer.push(backend.readyForQuery('I').subarray(0, 5));

    expect(framer.next()).toBeUndefined();
  });

  it('returns undefined when empty', () => {
    expect(new BackendFramer().next()).toBeUndefined();
  });

  it('reads a message with an empty body', () => {
    const framer = new BackendFramer();
    framer.push(rawMessage('n'));

    expect(framer.next()).toEqual({ code: 'n', body: Buffer.alloc(0), raw: rawMessage('n') });
  });

  it('returns an empty rest', () => {
    expect(new BackendFramer().rest()).toEqual(Buffer.alloc(0));
  });

  it('empties itself on rest', () => {
    const framer = new BackendFramer();
    framer.push(Buffer.from('abc'));
    framer.rest();

    expect(framer.rest()).toEqual(Buffer.alloc(0));
  });

  it('returns a partial header as rest', () => {
    const framer = new BackendFramer();
    framer.push(Buffer.from([0x5a, 0]));
    framer.push(Buffer.from([0]));

    expect(framer.next()).toBeUndefined();
    expect(framer.rest()).toEqual(Buffer.from([0x5a, 0, 0]));
  });

  it('reads a message of the maximum length', () => {
    const framer = new BackendFramer({ maxMessageBytes: 104 });
    framer.push(rawMessage('d', Buffer.alloc(100)));

    expect(framer.next()?.body.length).toBe(100);
  });

  it('defaults the maximum to 1 MiB', () => {
    expect(DEFAULT_MAX_BACKEND_MESSAGE_BYTES).toBe(1_048_576);
  });
});

describe('BackendFramer length checks', () => {
  it('rejects a length below 4', () => {
    const framer = new BackendFramer();
    framer.push(rawMessage('R', '', 3));

    expect(() => framer.next()).toThrow(WireError);
    expect(() => framer.next()).toThrow("server message 'R' declares length 3; expected 4..1048576 bytes");
  });

  it('rejects a negative length', () => {
    const framer = new BackendFramer();
    framer.push(rawMessage(0x01, '', -8));

    expect(() => framer.next()).toThrow('server message 0x01 declares length -8');
  });

  it('rejects a length above the maximum from the header alone', () => {
    const framer = new BackendFramer();
    framer.push(rawMessage('E', '', DEFAULT_MAX_BACKEND_MESSAGE_BYTES + 1));

    expect(() => framer.next()).toThrow("server message 'E' declares length 1048577; expected 4..1048576 bytes");
  });

  it('rejects a length above a custom maximum', () => {
    const framer = new BackendFramer({ maxMessageBytes: 100 });
    framer.push(rawMessage('d', Buffer.alloc(97)));

    expect(() => framer.next()).toThrow("server message 'd' declares length 101; expected 4..100 bytes");
  });

  it('rejects a bad header split into one-byte chunks', () => {
    const framer = new BackendFramer();
    const header = rawMessage('S', '', 2);
    const results = oneByteChunks(header).map((chunk) => {
      framer.push(chunk);
      try {
        return framer.next() === undefined ? 'waiting' : 'message';
      } catch (error) {
        return (error as WireError).code;
      }
    });

    expect(results).toEqual(['waiting', 'waiting', 'waiting', 'waiting', 'protocol_violation']);
  });

  it('rejects a non-PostgreSQL reply', () => {
    const framer = new BackendFramer();
    framer.push(Buffer.from('HTTP/1.1 400 Bad Request\r\n', 'latin1'));

    expect(() => framer.next()).toThrow("server message 'H' declares length 1414811695");
  });

  it('rejects a maximum below 4', () => {
    expect(() => new BackendFramer({ maxMessageBytes: 3 })).toThrow('maxMessageBytes is 3');
  });
});
