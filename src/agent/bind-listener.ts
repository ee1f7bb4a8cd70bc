// Binding one loopback listener for a resource. A port that is taken is an
// error naming the resource and the address, because the agent never moves a
// resource to another port behind the user's back.

import { createConnection, type Server } from 'node:net';
import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatHostPort, isLoopbackAddress } from './address.js';

/** Time the pre-bind probe waits for a connection to an existing listener. */
const PORT_PROBE_TIMEOUT_MS = 500;

/** Where the port of a listener comes from; it decides the advice of a port-in-use error. */
export type PortSource = 'override' | 'remembered' | 'random';

export interface BindTarget {
  resource: string;
  host: string;
  port: number;
  portSource: PortSource;
}

/** Raised when a resource's listener cannot be bound. */
export class ListenerError extends SdmError {
  readonly address: string;

  constructor(code: string, message: string, address: string, hint: string) {
    super(code, message, { exitCode: code === 'not_loopback' ? ExitCode.USAGE : ExitCode.CONFLICT, hint });
    this.address = address;
  }
}

/** Raises ListenerError `not_loopback` unless `host` is in 127.0.0.0/8 or is ::1. */
export function assertLoopback(resource: string, host: string): void {
  if (!isLoopbackAddress(host)) {
    throw new ListenerError(
      'not_loopback',
      `resource ${resource} has bind address ${host}, but the agent binds loopback addresses only (127.0.0.0/8 or ::1)`,
      host,
      `set a loopback address with sdm resource update ${resource} --ip 127.0.0.1`,
    );
  }
}

/**
 * Binds `server` to host:port. On Linux the kernel rejects the bind when a
 * listener on 0.0.0.0 or a dual-stack :: uses the port. BSD kernels (macOS)
 * let a specific address share a port with a wildcard listener when
 * SO_REUSEADDR is set, as Node sets it, so there a connection probe runs first.
 */
export async function bindLoopback(server: Server, target: BindTarget): Promise<void> {
  const { resource, host, port } = target;
  assertLoopback(resource, host);
  const address = formatHostPort({ host, port });

  // NOTE: the probe only runs off Linux and no test covers it; it can go if
  // Node gains an option to bind without SO_REUSEADDR.
  if (process.platform !== 'linux' && port !== 0 && (await somethingAccepts(host, port))) {
    throw portInUse(target, address);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(bindFailure(target, address, error));
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function bindFailure(target: BindTarget, address: string, error: NodeJS.ErrnoException): SdmError {
  const resource = target.resource;
  switch (error.code) {
    case 'EADDRINUSE':
      return portInUse(target, address);
    case 'EACCES':
      return new ListenerError(
        'port_not_permitted',
        `cannot listen for resource ${resource} on ${address}: permission denied`,
        address,
        `choose a port of 1024 or above with sdm resource update ${resource} --port-override N`,
      );
    case 'EADDRNOTAVAIL':
      return new ListenerError(
        'address_not_available',
        `cannot listen for resource ${resource} on ${address}: the address is not configured on this machine`,
        address,
        'add the loopback alias (macOS: sudo ifconfig lo0 alias ADDRESS) or choose 127.0.0.1 with --ip',
      );
    default:
      return new ListenerError('listen_failed', `cannot listen for resource ${resource} on ${address}: ${error.message}`, address, 'check the address and port of the resource');
  }
}

function portInUse(target: BindTarget, address: string): ListenerError {
  const { resource, portSource } = target;
  const next =
    portSource === 'remembered'
      ? `run sdm disconnect ${resource} --forget-port so that the next connect picks a new port`
      : `ask an admin to choose another with sdm resource update ${resource} --port-override N`;

  return new ListenerError(
    'port_in_use',
    `cannot listen for resource ${resource} on ${address}: the address is already in use, by another program or by a listener on 0.0.0.0 or ::`,
    address,
    `stop the program that uses the port, or ${next}`,
  );
}

function somethingAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection({ host, port });
    const finish = (accepted: boolean): void => {
      probe.destroy();
      resolve(accepted);
    };
    probe.setTimeout(PORT_PROBE_TIMEOUT_MS, () => finish(false));
    probe.once('connect', () => finish(true));
    probe.once('error', () => finish(false));
  });
}
