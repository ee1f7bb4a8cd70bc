import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';

import { MAX_PARAMETER_TEXT_BYTES, parseBindParameters } from '../../src/pgwire/bind-parameters.js';
import { FrontendScanner } from '../../src/pgwire/frontend-scanner.js';

function bindBody(statement: string, values: unknown[]): Buffer {
  return serialize.bind({ statement, values }).subarray(5);
}

function scanBinds(stream: Buffer, chunkSizes: number[], maxBindBytes?: number): Array<{ body: Buffer; truncated: boolean }> {
  const binds: Array<{ body: Buffer; truncated: boolean }> = [];
  const scanner = new FrontendScanner({
    maxTextBytes: 1024,
    maxBindBytes,
    onStatement: () => undefined,
    onBind: (body, truncated) => binds.push({ body: Buffer.from(body), truncated }),
  });
  let offset = 0;
  for (const size of chunkSizes) {
    expect(scanner.scan(stream.subarray(offset, offset + size))).toBeUndefined();
    offset += size;
  }
  return binds;
}

describe('parseBindParameters', () => {
  it('reads text, null and binary values', () => {
    const parsed = parseBindParameters(bindBody('stmt_1', ['héllo', null, Buffer.from([0xde, 0xad])]), false);

    expect(parsed.statement).toBe('stmt_1');
    expect(parsed.values).toEqual(['héllo', null, '\\xdead']);
    expect(parsed.truncated).toBe(false);
  });

  it('cuts a long value and marks it', () => {
    const parsed = parseBindParameters(bindBody('', ['x'.repeat(MAX_PARAMETER_TEXT_BYTES + 10)]), false);

    expect(parsed.values[0]).toHaveLength(MAX_PARAMETER_TEXT_BYTES);
    expect(parsed.truncated).toBe(true);
  });

  it('stops quietly at every prefix', () => {
    const body = bindBody('s', ['one', null, 'three']);
    for (let length = 0; length <= body.length; length += 1) {
      const parsed = parseBindParameters(body.subarray(0, length), length < body.length);
      expect(parsed.values.length).toBeLessThanOrEqual(3);
      expect(parsed.truncated).toBe(length < body.length);
    }
  });
});

describe('FrontendScanner onBind', () => {
  const stream = Buffer.concat([
    serialize.parse({ name: 's', text: 'SELECT $1' }),
    serialize.bind({ statement: 's', values: ['first'] }),
    serialize.execute(),
    serialize.bind({ statement: 's', values: ['second'] }),
    serialize.sync(),
  ]);

  it('delivers each Bind at every split point', () => {
    for (let split = 0; split <= stream.length; split += 1) {
      const binds = scanBinds(stream, [split, stream.length - split]);
      expect(binds.map((bind) => parseBindParameters(bind.body, bind.truncated).values)).toEqual([['first'], ['second']]);
    }
  });

  it('delivers each Bind in one-byte chunks', () => {
    const binds = scanBinds(stream, Array.from({ length: stream.length }, () => 1));

    expect(binds).toHaveLength(2);
    expect(parseBindParameters(binds[1].body, binds[1].truncated).values).toEqual(['second']);
  });

  it('copies at most maxBindBytes', () => {
    const big = serialize.bind({ statement: '', values: ['y'.repeat(5000)] });
    const binds = scanBinds(big, [big.length], 100);

    expect(binds[0].body.length).toBe(100);
    expect(binds[0].truncated).toBe(true);
  });
});
