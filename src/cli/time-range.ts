// Times given to `sdm logs --since/--until`: a duration back from now (30s,
// 15m, 1h, 2d, 1w) or an ISO 8601 time. Both become ISO 8601 text for the API.

import { ValidationError } from '../errors.js';

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Converts `text` to an ISO 8601 time; `flag` names the option in the error. */
export function parseTimeBound(text: string, now: Date, flag: string): string {
  const duration = /^(\d+)([smhdw])$/.exec(text.trim());
  if (duration !== null) {
    return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2]]).toISOString();
  }

  const time = Date.parse(text);
  if (Number.isNaN(time)) {
    throw new ValidationError(flag, `invalid ${flag} "${text}": expected a duration such as 30m, 1h or 2d, or an ISO 8601 time such as 2025-01-31T09:00:00Z`);
  }
  return new Date(time).toISOString();
}
