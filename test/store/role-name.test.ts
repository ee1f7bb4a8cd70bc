import { describe, expect, it } from 'vitest';

import { validateRoleName } from '../../src/store/account-validation.js';

describe('validateRoleName', () => {
  it.each(['.', '..', '...'])('rejects %s', (name) => {
    expect(() => validateRoleName(name, 'name')).toThrow(/not dots alone/);
  });

  it.each(['readers', 'data.readers', 'a-b_c.1'])('accepts %s', (name) => {
    expect(validateRoleName(name, 'name')).toBe(name);
  });
});
