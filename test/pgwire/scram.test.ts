import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { ScramClient } from '../../src/pgwire/scram.js';
import { ScramError } from '../../src/pgwire/wire-error.js';

// The SCRAM-SHA-256 example exchange of RFC 7677 section 3.
const RFC_PASSWORD = 'pencil';
const RFC_CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const RFC_CLIENT_FIRST = 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO';
const RFC_SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const RFC_CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const RFC_SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

function rfcClientAfterServerFirst(): ScramClient {
  const client = new ScramClient(RFC_PASSWORD, RFC_CLIENT_NONCE, 'user');
  client.clientFirstMessage();
  client.handleServerFirst(RFC_SERVER_FIRST);
  return client;
}

function startedClient(nonce = 'abc'): ScramClient {
  const client = new ScramClient('pw', nonce);
  client.clientFirstMessage();
  return client;
}

function captureError(action: () => unknown): ScramError {
  try {
    action();
  } catch (error) {
    return error as ScramError;
  }
  throw new Error('expected the action to throw');
}

/** Server side of SCRAM-SHA-256, written from RFC 5802 section 3 for the tests. */
function serverSignature(password: string, salt: Buffer, iterations: number, authMessage: string): string {
  const saltedPassword = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const serverKey = createHmac('sha256', saltedPassword).update('Server Key').digest();
  return createHmac('sha256', serverKey).update(authMessage).digest('base64');
}

describe('ScramClient RFC 7677 vector', () => {
  it('writes the client-first-message', () => {
    expect(new ScramClient(RFC_PASSWORD, RFC_CLIENT_NONCE, 'user').clientFirstMessage()).toBe(RFC_CLIENT_FIRST);
  });

  it('writes the client-final-message', () => {
    const client = new ScramClient(RFC_PASSWORD, RFC_CLIENT_NONCE, 'user');
    client.clientFirstMessage();

    expect(client.handleServerFirst(RFC_SERVER_FIRST)).toBe(RFC_CLIENT_FINAL);
  });

  it('accepts the server-final-message', () => {
    expect(() => rfcClientAfterServerFirst().verifyServerFinal(RFC_SERVER_FINAL)).not.toThrow();
  });

  it('rejects a wrong server signature', () => {
    const wrong = `v=${Buffer.alloc(32, 1).toString('base64')}`;
    const error = captureError(() => rfcClientAfterServerFirst().verifyServerFinal(wrong));

    expect(error).toBeInstanceOf(ScramError);
    expect(error.code).toBe('scram_failed');
    expect(error.message).toBe('server signature does not match, so the server has not proved knowledge of the password');
  });

  it('rejects a short server signature', () => {
    expect(() => rfcClientAfterServerFirst().verifyServerFinal('v=AAAA')).toThrow('server signature does not match');
  });

  it('rejects a server error', () => {
    expect(() => rfcClientAfterServerFirst().verifyServerFinal('e=invalid-proof')).toThrow('server rejected the SCRAM exchange: "invalid-proof"');
  });

  it('rejects a signature that is not base64', () => {
    expect(() => rfcClientAfterServerFirst().verifyServerFinal('v=!!!!')).toThrow('server signature "!!!!" is not base64');
  });

  it('rejects a final message without v=', () => {
    expect(() => rfcClientAfterServerFirst().verifyServerFinal('x=1')).toThrow('server-final-message has "x=1" where attribute "v=" was expected');
  });
});

describe('ScramClient PostgreSQL exchange', () => {
  it('sends an empty user name', () => {
    expect(new ScramClient('secret', 'nonce').clientFirstMessage()).toBe('n,,n=,r=nonce');
  });

  it('generates a 24-character nonce', () => {
    expect(new ScramClient('secret').clientFirstMessage()).toMatch(/^n,,n=,r=[A-Za-z0-9+/]{24}$/);
  });

  it('generates a new nonce per client', () => {
    expect(new ScramClient('a').clientFirstMessage()).not.toBe(new ScramClient('a').clientFirstMessage());
  });

  it('escapes the user name', () => {
    expect(new ScramClient('pw', 'n', 'a=b,c').clientFirstMessage()).toBe('n,,n=a=3Db=2Cc,r=n');
  });

  it('completes against an independent server', () => {
    const password = 'correct horse battery staple';
    const salt = Buffer.from('pgwire-test-salt');
    const client = new ScramClient(password, 'clientnonce');
    const clientFirstBare = client.clientFirstMessage().slice(3);
    const serverFirst = `r=clientnonceSERVER,s=${salt.toString('base64')},i=4096`;

    const clientFinal = client.handleServerFirst(serverFirst);
    const authMessage = `${clientFirstBare},${serverFirst},${clientFinal.slice(0, clientFinal.indexOf(',p='))}`;

    expect(() => client.verifyServerFinal(`v=${serverSignature(password, salt, 4096, authMessage)}`)).not.toThrow();
  });

  it('sends a proof the server can check', () => {
    const password = 'pässwörd';
    const salt = Buffer.from('salt');
    const client = new ScramClient(password, 'cn');
    const clientFirstBare = client.clientFirstMessage().slice(3);
    const serverFirst = `r=cnsn,s=${salt.toString('base64')},i=10`;
    const clientFinal = client.handleServerFirst(serverFirst);
    const [withoutProof, proofText] = clientFinal.split(',p=');

    const saltedPassword = pbkdf2Sync(password.normalize('NFKC'), salt, 10, 32, 'sha256');
    const storedKey = createHash('sha256').update(createHmac('sha256', saltedPassword).update('Client Key').digest()).digest();
    const signature = createHmac('sha256', storedKey).update(`${clientFirstBare},${serverFirst},${withoutProof}`).digest();
    const clientKey = Buffer.from(Buffer.from(proofText, 'base64').map((byte, index) => byte ^ signature[index]));

    expect(createHash('sha256').update(clientKey).digest()).toEqual(storedKey);
  });

  it('ignores extensions after the signature', () => {
    expect(() => rfcClientAfterServerFirst().verifyServerFinal(`${RFC_SERVER_FINAL},x=ext`)).not.toThrow();
  });
});

describe('ScramClient server-first checks', () => {
  it('rejects a nonce that does not extend ours', () => {
    const error = captureError(() => startedClient('abc').handleServerFirst('r=xyzdef,s=c2FsdA==,i=4096'));

    expect(error.code).toBe('scram_failed');
    expect(error.message).toBe('server nonce "xyzdef" does not extend the client nonce "abc"');
  });

  it('rejects a nonce equal to ours', () => {
    expect(() => startedClient('abc').handleServerFirst('r=abc,s=c2FsdA==,i=4096')).toThrow('does not extend the client nonce');
  });

  it('rejects a control character in the nonce', () => {
    expect(() => startedClient('abc').handleServerFirst('r=abc\x01,s=c2FsdA==,i=4096')).toThrow('does not extend the client nonce');
  });

  it('rejects zero iterations', () => {
    expect(() => startedClient().handleServerFirst('r=abcd,s=c2FsdA==,i=0')).toThrow(
      'server iteration count "0" is invalid; expected an integer in 1..10000000',
    );
  });

  it('rejects iterations above the maximum', () => {
    expect(() => startedClient().handleServerFirst('r=abcd,s=c2FsdA==,i=10000001')).toThrow('server iteration count "10000001" is invalid');
  });

  it('rejects negative iterations', () => {
    expect(() => startedClient().handleServerFirst('r=abcd,s=c2FsdA==,i=-1')).toThrow('server iteration count "-1" is invalid');
  });

  it('rejects fractional iterations', () => {
    expect(() => startedClient().handleServerFirst('r=abcd,s=c2FsdA==,i=1.5')).toThrow('server iteration count "1.5" is invalid');
  });

  it('rejects a huge iteration count', () => {
    expect(() => startedClient().handleServerFirst(`r=abcd,s=c2FsdA==,i=${'9'.repeat(400)}`)).toThrow('server iteration count');
  });

  it('rejects missing iterations', () => {
    expect(() => startedClient().handleServerFirst('r=abcd,s=c2FsdA==')).toThrow('server-first-message has "" where attribute "i=" was expected');
  });

  it('rejects a salt that is not base64', () => {
    expect(() => startedClient().handleServerFirst('r=abcd,s=***,i=4096')).toThrow('server salt "***" is not non-empty base64');
  });

  it('rejects an empty salt', () => {
    expect(() => startedClient().handleServerFirst('r=abcd,s=,i=4096')).toThrow('server salt "" is not non-empty base64');
  });

  it('rejects attributes out of order', () => {
    expect(() => startedClient().handleServerFirst('s=c2FsdA==,r=abcd,i=4096')).toThrow('where attribute "r=" was expected');
  });

  it('rejects a mandatory extension', () => {
    expect(() => startedClient().handleServerFirst('m=ext,r=abcd,s=c2FsdA==,i=4096')).toThrow('requires a SCRAM extension (m=)');
  });
});

describe('ScramClient call order', () => {
  it('rejects server-first before client-first', () => {
    expect(() => new ScramClient('pw', 'n').handleServerFirst(RFC_SERVER_FIRST)).toThrow(
      'handleServerFirst() called in SCRAM state "initial"; expected "client-first-sent"',
    );
  });

  it('rejects a second client-first', () => {
    expect(() => startedClient().clientFirstMessage()).toThrow('clientFirstMessage() called in SCRAM state "client-first-sent"');
  });

  it('rejects server-final before server-first', () => {
    expect(() => startedClient().verifyServerFinal(RFC_SERVER_FINAL)).toThrow('verifyServerFinal() called in SCRAM state "client-first-sent"');
  });

  it('rejects a second server-final', () => {
    const client = rfcClientAfterServerFirst();
    client.verifyServerFinal(RFC_SERVER_FINAL);

    expect(() => client.verifyServerFinal(RFC_SERVER_FINAL)).toThrow('verifyServerFinal() called in SCRAM state "done"');
  });

  it('rejects a nonce with a comma', () => {
    expect(() => new ScramClient('pw', 'a,b')).toThrow('client nonce "a,b" is invalid');
  });

  it('keeps the password out of errors', () => {
    const error = captureError(() => {
      const client = new ScramClient('hunter2-secret', 'abc');
      client.clientFirstMessage();
      client.handleServerFirst('r=abcd,s=c2FsdA==,i=1');
      client.verifyServerFinal('v=AAAA');
    });

    expect(error.message).not.toContain('hunter2');
  });
});
