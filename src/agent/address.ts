// Host and port text as users type it (`host:port`, `[::1]:port`) and the
// loopback rule every agent listener follows.

import { isIP } from 'node:net';
import { ValidationError } from '../errors.js';

export interface HostPort {
  host: string;
  port: number;
}

const MAX_PORT = 65_535;

/** Parses `host:port` or `[ipv6]:port`; `field` names the flag in the error. */
export function parseHostPort(text: string, field: string): HostPort {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (match === null) {
    throw new ValidationError(field, `invalid ${field} "${text}": expected HOST:PORT, for example 10.0.0.4:8443 or [::1]:8443`);
  }

  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > MAX_PORT) {
    throw new ValidationError(field, `invalid ${field} "${text}": the port must be between 1 and ${MAX_PORT}`);
  }
  return { host: match[1], port };
}

/** Formats an address for messages and as the key of a stored credential. */
export function formatHostPort(address: HostPort): string {
  const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

/** True for an IPv4 address in 127.0.0.0/8 or the IPv6 address ::1. */
export function isLoopbackAddress(host: string): boolean {
  if (isIP(host) === 4) {
    return host.split('.')[0] === '127';
  }
  if (isIP(host) === 6) {
    return host === '::1' || host === '0:0:0:0:0:0:0:1';
  }
  return false;
}
