import { describe, expect, it } from 'vitest';

import { saslprep } from '../../src/pgwire/saslprep.js';

describe('saslprep', () => {
  it('keeps ASCII unchanged', () => {
    expect(saslprep('Tr0ub4dor&3 ~')).toBe('Tr0ub4dor&3 ~');
  });

  it('keeps ASCII control characters', () => {
    expect(saslprep('tab\there')).toBe('tab\there');
  });

  it('maps a non-breaking space to a space', () => {
    expect(saslprep('pass\u00a0wörd')).toBe('pass wörd');
  });

  it('maps an ideographic space to a space', () => {
    expect(saslprep('パス\u3000ワード')).toBe('パス ワード');
  });

  it('removes a soft hyphen', () => {
    expect(saslprep('pass\u00adwörd')).toBe('passwörd');
  });

  it('removes a zero-width joiner', () => {
    expect(saslprep('é\u200dx')).toBe('éx');
  });

  it('applies NFKC to a ligature', () => {
    expect(saslprep('\ufb01né')).toBe('finé');
  });

  it('applies NFKC to a Roman numeral', () => {
    expect(saslprep('\u2168')).toBe('IX');
  });

  it('composes a decomposed accent', () => {
    expect(saslprep('e\u0301')).toBe('é');
  });

  it('returns the raw password for a control character', () => {
    expect(saslprep('ü\u0085x')).toBe('ü\u0085x');
  });

  it('returns the raw password for a private-use character', () => {
    expect(saslprep('\ue000\ufb01')).toBe('\ue000\ufb01');
  });

  it('returns the raw password for a non-character', () => {
    expect(saslprep('\u{1fffe}\ufb01')).toBe('\u{1fffe}\ufb01');
  });

  it('returns the raw password for a tagging character', () => {
    expect(saslprep('\u{e0041}\ufb01')).toBe('\u{e0041}\ufb01');
  });

  it('returns the raw password when mapping leaves nothing', () => {
    expect(saslprep('\u00ad\u2060')).toBe('\u00ad\u2060');
  });

  it('maps a zero-width space to a space', () => {
    expect(saslprep('é\u200bx')).toBe('é x');
  });

  it('checks prohibited characters before NFKC', () => {
    expect('a\u0340'.normalize('NFKC')).toBe('\u00e0');
    expect(saslprep('a\u0340')).toBe('a\u0340');
  });
});
