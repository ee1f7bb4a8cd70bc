import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { md5Password } from '../../src/pgwire/md5.js';

function md5Hex(input: Buffer | string): string {
  return createHash('md5').update(input).digest('hex');
}

describe('md5Password', () => {
  it('matches the PostgreSQL formula', () => {
    const salt = Buffer.from([0x01, 0x02, 0x03, 0x04]);
    const inner = md5Hex('s3cretalice');
    const expected = 'md5' + md5Hex(Buffer.concat([Buffer.from(inner), salt]));

    expect(md5Password('alice', 's3cret', salt)).toBe(expected);
  });

  it('matches a salt with high bytes', () => {
    const salt = Buffer.from([0xff, 0x00, 0x80, 0x7f]);
    const expected = 'md5' + md5Hex(Buffer.concat([Buffer.from(md5Hex('pwpostgres')), salt]));

    expect(md5Password('postgres', 'pw', salt)).toBe(expected);
  });

  it('encodes a non-ASCII password as UTF-8', () => {
    const salt = Buffer.from('abcd');
    const expected = 'md5' + md5Hex(Buffer.concat([Buffer.from(md5Hex(Buffer.from('pässwördjürgen', 'utf8'))), salt]));

    expect(md5Password('jürgen', 'pässwörd', salt)).toBe(expected);
  });

  it('returns 35 characters', () => {
    expect(md5Password('u', 'p', Buffer.alloc(4))).toMatch(/^md5[0-9a-f]{32}$/);
  });
});
