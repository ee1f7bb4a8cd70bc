// Next steps printed after an error. An SdmError usually carries its own
// hint; these fill in when it does not, so every error ends with something
// to try.

import { ExitCode } from '../exit-codes.js';

/** Admin API path prefixes, most specific first, with the listing that shows the names in use. */
const LISTINGS_BY_PATH: ReadonlyArray<[RegExp, string]> = [
  [/^\/v1\/roles\/[^/]+\/grants/, 'run sdm role list and sdm resource list to check both names'],
  [/^\/v1\/roles\/[^/]+\/members/, 'run sdm role list and sdm user list to check the role and the email'],
  [/^\/v1\/roles/, 'run sdm role list to see the roles'],
  [/^\/v1\/users/, 'run sdm user list to see the users'],
  [/^\/v1\/resources/, 'run sdm resource list to see the resources you may reach'],
  [/^\/v1\/logs/, 'run sdm resource list and sdm user list to check the names given to --resource and --user'],
];

/** Returns the listing to run after the node reports a name at `path` as not found or taken. */
export function listingHint(path: string): string {
  const found = LISTINGS_BY_PATH.find(([pattern]) => pattern.test(path));
  return found?.[1] ?? 'run sdm status to see the resources you may reach';
}

/** Returns a next step for an error that carries no hint of its own, chosen by its exit code. */
export function defaultHint(exitCode: number, commandPath: string): string {
  switch (exitCode) {
    case ExitCode.USAGE:
      return `run ${commandPath} --help to see the usage`;
    case ExitCode.AUTH:
      return 'run sdm login to store a valid API token, or ask an admin of the node for access';
    case ExitCode.NOT_FOUND:
      return 'run sdm status to see the resources you may reach';
    case ExitCode.UNREACHABLE:
      return 'check that the node is running (sdm gateway start) and reachable, then try again';
    case ExitCode.UNTRUSTED:
      return 'compare the fingerprint with the one sdm gateway init printed on the node, then run sdm login again';
    case ExitCode.CONFLICT:
      return 'list what the node stores (sdm resource list, sdm user list, sdm role list) and choose another name or port';
    default:
      return 'run again with SDM_DEBUG=1 to see where it failed';
  }
}
