// Client-side TLS contexts, built once per set of trusted CA certificates.
// Without a shared context, every tls.connect builds its own: it parses the
// CA PEM and sets up an OpenSSL context. That took about 1 ms of CPU for each
// new tunnel on the agent and each new database connection on the node.

import tls from 'node:tls';

/** Oldest TLS version sdm accepts on any connection it opens. */
export const TLS_MIN_VERSION = 'TLSv1.2';

/** Distinct CA sets kept: a node needs one per resource CA in use, an agent one per node. */
const MAX_CONTEXTS = 64;

const contexts = new Map<string, tls.SecureContext>();

/**
 * Returns the shared client context that trusts `caPem`, or Node's default
 * CA store when it is undefined. Pass it as `secureContext` to tls.connect;
 * the verification options (rejectUnauthorized, checkServerIdentity,
 * servername) stay per connection.
 */
export function clientSecureContext(caPem: string | undefined): tls.SecureContext {
  const key = caPem ?? '';
  let context = contexts.get(key);
  if (context === undefined) {
    context = tls.createSecureContext({ ca: caPem, minVersion: TLS_MIN_VERSION });
    if (contexts.size >= MAX_CONTEXTS) {
      contexts.delete(contexts.keys().next().value!);
    }
    contexts.set(key, context);
  }
  return context;
}
