import { describe, expect, it } from 'vitest';

import { isStoredTime, storedTime } from '../../src/store/log-query.js';

// The form isStoredTime accepts, written as a regular expression.
const STORED_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

describe('isStoredTime', () => {
  it('accepts what toISOString writes for years 0 to 9999', () => {
    for (let index = 0; index < 2000; index += 1) {
      const time = new Date(Date.UTC(0, 0, 1) + Math.floor(Math.random() * (Date.UTC(9999, 11, 31) - Date.UTC(0, 0, 1)))).toISOString();
      expect(isStoredTime(time), time).toBe(true);
    }
    expect(isStoredTime('0000-01-01T00:00:00.000Z')).toBe(true);
    expect(isStoredTime('9999-12-31T23:59:59.999Z')).toBe(true);
  });

  it('agrees with the regular expression on every one-character change', () => {
    const base = '2025-01-31T09:00:00.000Z';
    const replacements = ['0', '1', '2', '3', '5', '6', '9', 'a', 'Z', 'T', '-', ':', '.', ' ', '٣'];
    for (let position = 0; position < base.length; position += 1) {
      for (const replacement of replacements) {
        const changed = base.slice(0, position) + replacement + base.slice(position + 1);
        expect(isStoredTime(changed), changed).toBe(STORED_TIME.test(changed));
      }
    }
  });

  it('rejects other lengths and offsets', () => {
    for (const value of ['', '2025-01-31T09:00:00Z', '2025-01-31T09:00:00.000+00:00', '2025-01-31T09:00:00.0000Z', '+012025-01-31T09:00:00.000Z']) {
      expect(isStoredTime(value), value).toBe(false);
    }
  });
});

describe('storedTime', () => {
  it('keeps a time in stored form and converts others', () => {
    expect(storedTime('2025-01-31T09:00:00.000Z', 'time')).toBe('2025-01-31T09:00:00.000Z');
    expect(storedTime('2025-01-31T10:00:00+01:00', 'time')).toBe('2025-01-31T09:00:00.000Z');
    expect(() => storedTime('2025-02-30T09:00:00.000Y', 'time')).toThrow(/invalid time/);
  });
});
