// Client-side TLS contexts, built once per set of trusted CA certificates.
// Without a shared context, every tls.connect builds its own: it parses the
// CA PEM and sets up an OpenSSL context. That took about 1 ms of CPU for each
// new tunnel on the agent and each new database connection on the node.

import tls from 'node:tls';

import { cachedValue } from '../bounded-cache.js';

/** Oldest TLS version sdm accepts on any connection it opens. */
export const TLS_MIN_VERSION = 'TLSv1.2';

/** Distinct CA sets kept: a node needs one per resource CA in use, an agent one per node. */
const MAX_CONTEXTS = 64;

/**
 * The trust of a client context: the CA certificates in a PEM text, Node's
 * bundled store of public CAs, or no CA at all, for a caller that checks a
 * pinned fingerprint itself. Building the bundled store costs about 25 ms
 * the first time in a process, which a command that only talks to a pinned
 * node should not pay.
 */
export type ClientTrust = { caPem: string } | 'public CAs' | 'pinned only';

const contexts = new Map<string, tls.SecureContext>();

/**
 * Returns the shared client context for `trust`. Pass it as `secureContext`
 * to tls.connect. The verification options (rejectUnauthorized,
 * checkServerIdentity, servername) stay per connection.
 */
export function clientSecureContext(trust: ClientTrust): tls.SecureContext {
  const key = typeof trust === 'string' ? trust : `PEM ${trust.caPem}`;
  return cachedValue(contexts, key, MAX_CONTEXTS, () => tls.createSecureContext({ ca: trustedCertificates(trust), minVersion: TLS_MIN_VERSION }));
}

/** Returns the `ca` option for `trust`. Undefined makes Node load its bundled store, and an empty list trusts no CA. */
function trustedCertificates(trust: ClientTrust): string | string[] | undefined {
  if (trust === 'public CAs') {
    return undefined;
  }
  if (trust === 'pinned only') {
    return [];
  }
  return trust.caPem;
}
