import net from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startFidelityEnv, type FidelityEnv } from '../helpers/fidelity-env.js';

/** Short enough that a test outlives a token, long enough for a login to finish with one. */
const TOKEN_LIFETIME_SECONDS = 5;

/** Wait past the lifetime of the token the first session was opened with. */
const OUTLIVE_TOKEN_MS = (TOKEN_LIFETIME_SECONDS + 1) * 1000;

let env: FidelityEnv;
const keepAliveSockets = new Set<net.Socket>();
const originalSetKeepAlive = net.Socket.prototype.setKeepAlive;

beforeAll(async () => {
  net.Socket.prototype.setKeepAlive = function recordKeepAlive(this: net.Socket, enable?: boolean, initialDelay?: number) {
    if (enable) {
      keepAliveSockets.add(this);
    }
    return originalSetKeepAlive.call(this, enable, initialDelay);
  };
  env = await startFidelityEnv({ tokenLifetimeSeconds: TOKEN_LIFETIME_SECONDS });
});

afterAll(async () => {
  net.Socket.prototype.setKeepAlive = originalSetKeepAlive;
  await env?.close();
});

function hasKeepAlive(localPort: number | undefined, remotePort: number | undefined): boolean {
  return [...keepAliveSockets].some((socket) => (localPort === undefined || socket.localPort === localPort) && (remotePort === undefined || socket.remotePort === remotePort));
}

describe('long sessions', () => {
  it('outlives its token and later logins use a fresh one', async () => {
    const first = await env.connect();
    const issuedAtLogin = env.node.emulator.issuedCount();
    await first.query('SELECT 1');

    await new Promise((resolve) => setTimeout(resolve, OUTLIVE_TOKEN_MS));
    const stillOpen = await first.query('SELECT 2 AS n');
    // Each issued token replaces the role's password, so this login succeeds only with the newest token.
    const second = await env.connect();
    const fresh = await second.query('SELECT 3 AS n');

    expect(stillOpen.rows[0].n).toBe(2);
    expect(fresh.rows[0].n).toBe(3);
    expect(env.node.emulator.issuedCount()).toBeGreaterThan(issuedAtLogin);
    await first.end();
    await second.end();
  });

  it('sets TCP keepalive on every leg', async () => {
    const client = await env.connect();
    const clientPort = (client as unknown as { connection: { stream: net.Socket } }).connection.stream.localPort;
    const backend = await client.query('SELECT client_port FROM pg_stat_activity WHERE pid = pg_backend_pid()');

    const tunnelSockets = [...keepAliveSockets].filter((socket) => socket.remotePort === env.node.port);
    const tunnelLinked = tunnelSockets.some((socket) => hasKeepAlive(env.node.port, socket.localPort));

    expect(hasKeepAlive(env.tunnel.port, clientPort)).toBe(true);
    expect(tunnelSockets.length).toBeGreaterThan(0);
    expect(tunnelLinked).toBe(true);
    expect(hasKeepAlive(backend.rows[0].client_port, env.server.port)).toBe(true);
    await client.end();
  });
});
