import { afterEach, describe, expect, it, vi } from 'vitest';

import { FrontendScanner, type ScanError } from '../../src/pgwire/frontend-scanner.js';
import { frontend, oneByteChunks, rawMessage, twoChunkSplits } from './message-builder.js';

interface Statement {
  text: string;
  truncated: boolean;
  protocol: 'simple' | 'extended';
}

interface ScanOutcome {
  statements: Statement[];
  terminations: number;
  errors: ScanError[];
}

function scanChunks(chunks: Buffer[], maxTextBytes = 1024): ScanOutcome {
  const outcome: ScanOutcome = { statements: [], terminations: 0, errors: [] };
  const scanner = new FrontendScanner({
    maxTextBytes,
    onStatement: (text, truncated, protocol) => outcome.statements.push({ text, truncated, protocol }),
    onTerminate: () => {
      outcome.terminations += 1;
    },
  });

  for (const chunk of chunks) {
    const error = scanner.scan(chunk);
    if (error) {
      outcome.errors.push(error);
    }
  }
  return outcome;
}

const SESSION = Buffer.concat([
  frontend.query('SELECT 1; SELECT 2'),
  frontend.parse('SELECT $1::int', 'stmt', [23]),
  frontend.bind(['5', null, Buffer.from([0, 1])]),
  frontend.describe(),
  frontend.execute(),
  frontend.sync(),
  frontend.parse('INSERT INTO t VALUES ($1)'),
  frontend.flush(),
  frontend.close(),
  frontend.query('COPY t FROM STDIN'),
  frontend.copyData(Buffer.from('1\n2\n\0binary\0')),
  frontend.copyDone(),
  frontend.query(''),
  frontend.terminate(),
]);

const SESSION_STATEMENTS: Statement[] = [
  { text: 'SELECT 1; SELECT 2', truncated: false, protocol: 'simple' },
  { text: 'SELECT $1::int', truncated: false, protocol: 'extended' },
  { text: 'INSERT INTO t VALUES ($1)', truncated: false, protocol: 'extended' },
  { text: 'COPY t FROM STDIN', truncated: false, protocol: 'simple' },
  { text: '', truncated: false, protocol: 'simple' },
];

describe('FrontendScanner framing', () => {
  it('reads a session in one chunk', () => {
    expect(scanChunks([SESSION])).toEqual({ statements: SESSION_STATEMENTS, terminations: 1, errors: [] });
  });

  it('reads a session at every split point', () => {
    for (const chunks of twoChunkSplits(SESSION)) {
      expect(scanChunks(chunks), `split at ${chunks[0].length}`).toEqual({ statements: SESSION_STATEMENTS, terminations: 1, errors: [] });
    }
  });

  it('reads a session in one-byte chunks', () => {
    expect(scanChunks(oneByteChunks(SESSION))).toEqual({ statements: SESSION_STATEMENTS, terminations: 1, errors: [] });
  });

  it('reads a multi-statement query as one statement', () => {
    const outcome = scanChunks([frontend.query('BEGIN; UPDATE a SET b = 1; COMMIT;')]);

    expect(outcome.statements).toEqual([{ text: 'BEGIN; UPDATE a SET b = 1; COMMIT;', truncated: false, protocol: 'simple' }]);
  });

  it('skips a large CopyData message', () => {
    const stream = Buffer.concat([frontend.copyData(Buffer.alloc(1024 * 1024, 0x51)), frontend.query('SELECT 3')]);
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < stream.length; offset += 65_536) {
      chunks.push(stream.subarray(offset, offset + 65_536));
    }

    expect(scanChunks(chunks)).toEqual({ statements: [{ text: 'SELECT 3', truncated: false, protocol: 'simple' }], terminations: 0, errors: [] });
  });

  it('accepts an empty chunk', () => {
    expect(scanChunks([Buffer.alloc(0), frontend.sync(), Buffer.alloc(0)])).toEqual({ statements: [], terminations: 0, errors: [] });
  });

  it('reads a Parse message with a long name', () => {
    const message = frontend.parse('SELECT 4', 'n'.repeat(60));

    for (const chunks of twoChunkSplits(message)) {
      expect(scanChunks(chunks, 4).statements, `split at ${chunks[0].length}`).toEqual([{ text: 'SELE', truncated: true, protocol: 'extended' }]);
    }
  });
});

describe('FrontendScanner text cap', () => {
  it('truncates text above the cap', () => {
    expect(scanChunks([frontend.query('SELECT 12345')], 6).statements).toEqual([{ text: 'SELECT', truncated: true, protocol: 'simple' }]);
  });

  it('keeps text of exactly the cap', () => {
    expect(scanChunks([frontend.query('SELECT')], 6).statements).toEqual([{ text: 'SELECT', truncated: false, protocol: 'simple' }]);
  });

  it('drops a two-byte character cut by the cap', () => {
    expect(scanChunks([frontend.query('aé')], 2).statements).toEqual([{ text: 'a', truncated: true, protocol: 'simple' }]);
  });

  it('keeps a two-byte character ending at the cap', () => {
    expect(scanChunks([frontend.query('aéb')], 3).statements).toEqual([{ text: 'aé', truncated: true, protocol: 'simple' }]);
  });

  it('drops a four-byte character cut anywhere', () => {
    for (const cap of [2, 3, 4]) {
      expect(scanChunks([frontend.query('a😀b')], cap).statements, `cap ${cap}`).toEqual([{ text: 'a', truncated: true, protocol: 'simple' }]);
    }
  });

  it('keeps a four-byte character ending at the cap', () => {
    expect(scanChunks([frontend.query('a😀b')], 5).statements).toEqual([{ text: 'a😀', truncated: true, protocol: 'simple' }]);
  });

  it('drops a three-byte character cut in one-byte chunks', () => {
    const statements = scanChunks(oneByteChunks(frontend.query('ab€')), 4).statements;

    expect(statements).toEqual([{ text: 'ab', truncated: true, protocol: 'simple' }]);
  });

  it('reports empty text under a zero cap', () => {
    expect(scanChunks([frontend.query('SELECT 1'), frontend.query('')], 0).statements).toEqual([
      { text: '', truncated: true, protocol: 'simple' },
      { text: '', truncated: false, protocol: 'simple' },
    ]);
  });

  it('truncates Parse text at every split point', () => {
    const message = frontend.parse('SELECT ünïcödé', 's1', [25, 23]);

    for (const chunks of twoChunkSplits(message)) {
      expect(scanChunks(chunks, 8).statements, `split at ${chunks[0].length}`).toEqual([{ text: 'SELECT ', truncated: true, protocol: 'extended' }]);
    }
  });

  it('rejects a negative cap', () => {
    expect(() => new FrontendScanner({ maxTextBytes: -1, onStatement: () => undefined })).toThrow('maxTextBytes is -1');
  });
});

describe('FrontendScanner errors', () => {
  it('rejects an unknown type byte', () => {
    const outcome = scanChunks([frontend.sync(), rawMessage('z', 'abc')]);

    expect(outcome.errors).toEqual([
      { sqlstate: '08P01', message: "unknown frontend message type 0x7a ('z') at byte 5; expected one of B, C, D, E, F, H, P, Q, S, X, c, d, f" },
    ]);
  });

  it('rejects a zero type byte', () => {
    expect(scanChunks([Buffer.from([0, 0, 0, 0, 8])]).errors[0].message).toContain('unknown frontend message type 0x00 at byte 0');
  });

  it('rejects a password message', () => {
    expect(scanChunks([rawMessage('p', 'secret\0')]).errors[0].message).toContain("0x70 ('p') at byte 0 is a password or SASL response");
  });

  it('rejects a startup packet', () => {
    const startupPacket = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

    expect(scanChunks([startupPacket]).errors[0].sqlstate).toBe('08P01');
  });

  it('rejects a length below 4', () => {
    const outcome = scanChunks([rawMessage('S', '', 3)]);

    expect(outcome.errors).toEqual([{ sqlstate: '08P01', message: "frontend message 'S' at byte 0 declares length 3; expected at least 4" }]);
  });

  it('rejects a negative length', () => {
    expect(scanChunks([rawMessage('Q', '', -1)]).errors[0].message).toContain('declares length -1');
  });

  it('rejects a Query without its terminator', () => {
    const outcome = scanChunks([rawMessage('Q', 'SELECT 1'), frontend.sync()]);

    expect(outcome.errors[0].message).toBe('Query message at byte 0 ends before the zero byte that terminates its query string');
    expect(outcome.statements).toEqual([]);
  });

  it('rejects an empty Query', () => {
    expect(scanChunks([rawMessage('Q')]).errors[0].message).toContain('Query message at byte 0 ends before');
  });

  it('rejects a Parse without a name terminator', () => {
    expect(scanChunks([rawMessage('P', 'name')]).errors[0].message).toContain('Parse message at byte 0 ends before');
  });

  it('rejects a Parse without a text terminator', () => {
    expect(scanChunks([rawMessage('P', '\0SELECT')]).errors[0].message).toContain('Parse message at byte 0 ends before');
  });

  it('finds errors at every split point', () => {
    const stream = Buffer.concat([frontend.query('SELECT 1'), rawMessage('Q', '', 2)]);

    for (const chunks of twoChunkSplits(stream)) {
      const outcome = scanChunks(chunks);
      expect(outcome.statements, `split at ${chunks[0].length}`).toHaveLength(1);
      expect(outcome.errors[0]?.message, `split at ${chunks[0].length}`).toBe("frontend message 'Q' at byte 14 declares length 2; expected at least 4");
    }
  });

  it('repeats the error on later chunks', () => {
    const outcome = scanChunks([rawMessage('z'), frontend.query('SELECT 1')]);

    expect(outcome.errors).toHaveLength(2);
    expect(outcome.errors[1]).toEqual(outcome.errors[0]);
    expect(outcome.statements).toEqual([]);
  });
});

describe('FrontendScanner allocation', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('allocates no buffer for other messages', () => {
    const stream = Buffer.concat([frontend.bind(['1', 'two']), frontend.execute(), frontend.copyData(Buffer.alloc(4096)), frontend.sync()]);
    const scanner = new FrontendScanner({ maxTextBytes: 100, onStatement: () => undefined });
    const allocations = [vi.spyOn(Buffer, 'alloc'), vi.spyOn(Buffer, 'allocUnsafe'), vi.spyOn(Buffer, 'from'), vi.spyOn(Buffer, 'concat')];

    for (const chunk of oneByteChunks(stream)) {
      scanner.scan(chunk);
    }

    expect(allocations.map((spy) => spy.mock.calls.length)).toEqual([0, 0, 0, 0]);
  });

  it('allocates text no larger than the cap', () => {
    const message = frontend.query('x'.repeat(100_000));
    const scanner = new FrontendScanner({ maxTextBytes: 16, onStatement: () => undefined });
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');

    scanner.scan(message);

    expect(allocUnsafe.mock.calls).toEqual([[16]]);
  });
});
