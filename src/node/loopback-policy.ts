import dns from 'node:dns';
import net from 'node:net';

/**
 * Environment variable that confines the node's outbound connections (to
 * database servers and the token service) to loopback addresses. Tests, the
 * demo and the benchmark set it, so a resource pointing anywhere else fails
 * before a packet leaves the machine.
 */
export const LOOPBACK_ONLY_ENV = 'SDM_LOOPBACK_ONLY';

export function loopbackOnly(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[LOOPBACK_ONLY_ENV] === '1';
}

export function isLoopbackAddress(address: string): boolean {
  if (net.isIPv4(address)) {
    return address.startsWith('127.');
  }
  const lower = address.toLowerCase();
  return lower === '::1' || lower.startsWith('::ffff:127.');
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` function for `net.connect` that resolves as usual and, when the
 * node runs loopback-only, fails for any address outside 127.0.0.0/8 and ::1.
 */
export function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, options, (error, address, family) => {
    if (error || !loopbackOnly()) {
      callback(error, address, family);
      return;
    }

    const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
    const outside = addresses.find((candidate) => !isLoopbackAddress(candidate));
    if (outside !== undefined) {
      const refusal: NodeJS.ErrnoException = new Error(
        `${hostname} resolves to ${outside}, which is not a loopback address, and ${LOOPBACK_ONLY_ENV}=1 allows loopback only`,
      );
      refusal.code = 'ELOOPBACKONLY';
      callback(refusal, address, family);
      return;
    }
    callback(null, address, family);
  });
}
