// Exit codes of the `sdm` command. They are part of the interface scripts
// rely on, so a value never changes meaning; the README lists them.

export const ExitCode = {
  OK: 0,
  /** A failure that fits no other code. */
  FAILURE: 1,
  /** Wrong flags or arguments, or a value the node rejected as invalid. */
  USAGE: 2,
  /** Not logged in, a token the node rejected, or access denied. */
  AUTH: 3,
  /** The named resource, user or role does not exist. */
  NOT_FOUND: 4,
  /** The node or the agent cannot be reached. */
  UNREACHABLE: 5,
  /** The node's certificate does not match the pinned fingerprint or CA. */
  UNTRUSTED: 6,
  /** The change conflicts with what is stored (a duplicate name or port). */
  CONFLICT: 7,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
