// Vitest setup file that keeps every test on loopback. It wraps
// net.Socket.prototype.connect, which TCP, TLS, HTTP and fetch clients all
// go through, and dgram.Socket.prototype.send and connect, so that an
// attempt to reach an address outside 127.0.0.0/8 and ::1 throws before any
// system call is made. A host name other than `localhost` is rejected too,
// because the guard cannot know where it resolves. Unix socket paths pass.
//
// It also points `@azure/identity` at an unused loopback port unless a test
// already chose an emulator, so the SDK never falls back to the metadata
// address 169.254.169.254.
//
// NOTE: the guard covers this process only. Child processes that tests
// spawn (the `sdm` binary in e2e tests) are not wrapped.

import dgram from 'node:dgram';
import net from 'node:net';

/** Loopback discard port, which normally has no listener, so a token request fails at once. */
const UNUSED_IDENTITY_HOST = 'http://127.0.0.1:9';

const GUARD_MARK = Symbol.for('sdm.loopbackGuard');

/** Reports whether a host is a loopback IP literal or the name `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') {
    return true;
  }

  switch (net.isIP(bare)) {
    case 4:
      return bare.split('.')[0] === '127';
    case 6:
      return isLoopbackIPv6(bare);
    default:
      return false;
  }
}

function isLoopbackIPv6(address: string): boolean {
  const lower = address.toLowerCase();
  if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') {
    return true;
  }

  // An IPv4-mapped address (::ffff:127.x.y.z) reaches IPv4 loopback.
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped !== null && mapped[1].split('.')[0] === '127';
}

/** Throws unless `host` is a loopback address; `what` names the caller in the message. */
export function assertLoopback(host: string, what: string): void {
  if (!isLoopbackHost(host)) {
    throw new Error(
      `loopback guard: ${what} to '${host}' blocked; tests may reach only 127.0.0.0/8, ::1 or localhost. ` +
        'Start a local server (such as the IMDS emulator) and connect to it instead.',
    );
  }
}

/** Finds the TCP host of a Socket#connect call, or undefined for a Unix socket path. */
export function connectTarget(args: unknown[]): string | undefined {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];

  if (typeof first === 'object' && first !== null) {
    const options = first as { path?: unknown; host?: unknown };
    if (typeof options.path === 'string') {
      return undefined;
    }
    return typeof options.host === 'string' && options.host.length > 0 ? options.host : 'localhost';
  }

  if (typeof first === 'string' && Number.isNaN(Number(first))) {
    return undefined;
  }
  return typeof args[1] === 'string' && args[1].length > 0 ? args[1] : 'localhost';
}

/**
 * Finds the destination of a dgram Socket#send call on an unconnected
 * socket, following Node's own argument rules: either
 * (msg, offset, length, port, address, callback) or (msg, port, address, callback).
 * An absent address means localhost.
 */
export function sendTarget(args: unknown[]): string {
  const [, , length, port, address] = args;
  const longForm = Boolean(address) || (Boolean(port) && typeof port !== 'function');
  const host = longForm ? address : length;
  return typeof host === 'string' && host.length > 0 ? host : 'localhost';
}

function isConnected(socket: dgram.Socket): boolean {
  try {
    socket.remoteAddress();
    return true;
  } catch {
    return false;
  }
}

function installGuard(): void {
  const marked = net.Socket.prototype as unknown as Record<symbol, boolean>;
  if (marked[GUARD_MARK]) {
    return;
  }
  marked[GUARD_MARK] = true;

  const connect = net.Socket.prototype.connect as (...args: unknown[]) => net.Socket;
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const host = connectTarget(args);
    if (host !== undefined) {
      assertLoopback(host, 'TCP connection');
    }
    return connect.apply(this, args);
  } as typeof net.Socket.prototype.connect;

  const send = dgram.Socket.prototype.send as (...args: unknown[]) => void;
  dgram.Socket.prototype.send = function guardedSend(this: dgram.Socket, ...args: unknown[]) {
    if (!isConnected(this)) {
      assertLoopback(sendTarget(args), 'UDP send');
    }
    return send.apply(this, args);
  } as typeof dgram.Socket.prototype.send;

  const udpConnect = dgram.Socket.prototype.connect as (...args: unknown[]) => void;
  dgram.Socket.prototype.connect = function guardedUdpConnect(this: dgram.Socket, ...args: unknown[]) {
    const address = args[1];
    assertLoopback(typeof address === 'string' && address.length > 0 ? address : 'localhost', 'UDP connect');
    return udpConnect.apply(this, args);
  } as typeof dgram.Socket.prototype.connect;
}

installGuard();

if (!process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST) {
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = UNUSED_IDENTITY_HOST;
}
