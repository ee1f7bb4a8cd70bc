// Ports the agent picks for a resource that has neither a port override nor
// a remembered port. The range overlaps the ephemeral ports of common systems
// (32768–60999 on Linux), so a pick can be taken; the caller then tries
// another one.

/** Lowest port the agent picks at random. */
export const RANDOM_PORT_MIN = 1024;

/** Highest port the agent picks at random. */
export const RANDOM_PORT_MAX = 64_999;

/** Number of random ports tried before the agent gives up. */
export const MAX_RANDOM_PORT_ATTEMPTS = 25;

/** Returns a port in RANDOM_PORT_MIN..RANDOM_PORT_MAX; `random` returns a number in [0, 1). */
export function pickRandomPort(random: () => number = Math.random): number {
  const span = RANDOM_PORT_MAX - RANDOM_PORT_MIN + 1;
  return RANDOM_PORT_MIN + Math.floor(random() * span);
}
