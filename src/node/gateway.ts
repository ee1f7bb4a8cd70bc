import fs from 'node:fs/promises';
import http from 'node:http';
import tls from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import type { AddressInfo } from 'node:net';

import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { Logger } from '../log.js';
import { AuditWriter, startRetention } from '../store/audit-writer.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { Store } from '../store/types.js';
import { ADMIN_ALPN, TUNNEL_ALPN } from '../tunnel/hello.js';
import { nodeServerTlsOptions } from '../tunnel/tls.js';
import { fingerprintOf } from '../tunnel/fingerprint.js';
import { AccessControl } from './access.js';
import { createAdminHandler } from './admin/router.js';
import { CancelRegistry } from './cancel-registry.js';
import { dataDirPaths, parseListen, readNodeConfig, type DataDirPaths, type NodeConfig } from './data-dir.js';
import { lockDataDir, type DataDirLock } from './data-dir-lock.js';
import { HealthChecker } from './health-checker.js';
import { SessionError } from './session-error.js';
import { SessionRegistry } from './session-registry.js';
import { createTokenSource } from './token-source-factory.js';
import { handleTunnel, type TunnelDependencies } from './tunnel-handler.js';

export { initGateway, type InitOptions, type InitResult } from './gateway-init.js';

/** V8 flag that keeps the young generation at its initial 1 MiB semi-spaces; see the agent's YOUNG_GENERATION_FLAG. */
const YOUNG_GENERATION_FLAG = '--semi-space-growth-factor=1';

/** Time a client gets to finish the TLS handshake. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Idle time after which the admin API closes a connection between requests. */
export const ADMIN_KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** Time a client gets to send a request's headers, and its whole request. */
export const ADMIN_HEADERS_TIMEOUT_MS = 10_000;
export const ADMIN_REQUEST_TIMEOUT_MS = 30_000;

/** Inactivity after which an admin connection is closed. */
export const ADMIN_IDLE_TIMEOUT_MS = 30_000;

/** How often open sessions are checked against the store, for changes made through other nodes. */
export const ACCESS_RECHECK_INTERVAL_MS = 5_000;

export interface RunOptions {
  dataDir: string;
  logger: Logger;
  /** Overrides the listen address from node.json. */
  listen?: string;
}

export interface RunningGateway {
  address: { host: string; port: number };
  fingerprint: string;
  close(): Promise<void>;
}

/**
 * Starts a node from its data directory: one TLS port that carries tunnels
 * and the HTTPS admin API (distinguished by ALPN), the store, token cache, audit
 * writer and health checks. `close()` stops accepting, lets open sessions
 * finish for the configured grace time, ends the rest, and closes the store.
 */
export async function runGateway(options: RunOptions): Promise<RunningGateway> {
  // Keeps V8's young generation at its initial size, as the agent does: without
  // it, a node that relayed some traffic held about 30 MiB more resident memory.
  setFlagsFromString(YOUNG_GENERATION_FLAG);
  const paths = dataDirPaths(options.dataDir);
  const config = await readNodeConfig(paths);
  const lock = await lockDataDir(paths.root);
  try {
    return await startGateway(options, paths, config, lock);
  } catch (error) {
    await lock.release();
    throw error;
  }
}

async function startGateway(options: RunOptions, paths: DataDirPaths, config: NodeConfig, lock: DataDirLock): Promise<RunningGateway> {
  const logger = options.logger;
  const certPem = await fs.readFile(paths.certificate, 'utf8');
  const keyPem = await fs.readFile(paths.privateKey, 'utf8');

  const store = await openSqliteStore(paths.store, {
    onMigration: (migration, durationMs) => {
      const fields = { version: migration.version, description: migration.description };
      if (durationMs === undefined) {
        logger.info(fields, 'store migration started');
      } else {
        logger.info({ ...fields, durationMs: Math.round(durationMs) }, 'store migration done');
      }
    },
  });
  const parts = await assemble(store, config, logger);
  const server = tls.createServer({
    ...nodeServerTlsOptions({ certPem, keyPem, alpnProtocols: [TUNNEL_ALPN, ADMIN_ALPN] }),
    handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
  });
  const admin = http.createServer(
    { keepAliveTimeout: ADMIN_KEEP_ALIVE_TIMEOUT_MS, headersTimeout: ADMIN_HEADERS_TIMEOUT_MS, requestTimeout: ADMIN_REQUEST_TIMEOUT_MS },
    createAdminHandler(parts.adminDeps),
  );
  // An admin connection that stays idle this long is closed, so idle sockets cannot pile up.
  admin.setTimeout(ADMIN_IDLE_TIMEOUT_MS);

  server.on('secureConnection', (socket) => {
    if (socket.alpnProtocol === TUNNEL_ALPN) {
      void handleTunnel(socket, parts.tunnelDeps);
    } else {
      admin.emit('connection', socket);
    }
  });
  // With a listener here, Node.js leaves the socket open after a failed or
  // timed-out handshake, so the listener must close it.
  server.on('tlsClientError', (error, socket) => {
    logger.debug({ err: error.message, remoteAddress: socket.remoteAddress }, 'TLS handshake failed');
    socket.destroy();
  });

  const { host, port } = parseListen(options.listen ?? config.listen);
  try {
    await listen(server, host, port);
  } catch (error) {
    await parts.dispose();
    throw listenError(error as NodeJS.ErrnoException, host, port);
  }
  await endLeftoverSessions(store, logger);
  await parts.health.start();
  const address = server.address() as AddressInfo;
  const fingerprint = fingerprintOf(certPem);
  logger.info({ host: address.address, port: address.port, fingerprint }, 'node listening');

  return {
    address: { host: address.address, port: address.port },
    fingerprint,
    close: async () => {
      await shutdown(server, admin, parts, config, logger);
      await lock.release();
    },
  };
}

/** Error of a connection record that an earlier run of the node left open. */
export const LEFTOVER_SESSION_ERROR = 'the node stopped before the session ended';

// Runs once the node has locked its data directory and bound its port, so a
// second node started on the same data directory fails first and leaves these
// records alone.
async function endLeftoverSessions(store: Store, logger: Logger): Promise<void> {
  const count = await store.endOpenConnections(new Date().toISOString(), LEFTOVER_SESSION_ERROR);
  if (count > 0) {
    logger.warn({ count }, 'connection records left open by an earlier run ended as failed');
  }
}

type Parts = Awaited<ReturnType<typeof assemble>>;

async function assemble(store: Store, config: NodeConfig, logger: Logger) {
  const tokens = await createTokenSource(logger);
  const audit = new AuditWriter(store, {
    onError: (error) => logger.error({ err: error.message }, 'audit write failed'),
    onDropped: (count) => logger.warn({ count }, 'audit queue full; query records dropped'),
  });
  const stopRetention = startRetention(store, config.logRetentionDays, () => Date.now(), {
    onError: (error) => logger.error({ err: error.message }, 'log retention failed'),
  });
  const health = new HealthChecker({ store, tokens, logger, intervalMs: config.healthIntervalSeconds * 1000 });
  const sessions = new SessionRegistry();
  const cancels = new CancelRegistry();
  const access = new AccessControl(store);
  let shuttingDown = false;

  const enforceAccess = () => enforceSessionAccess(store, access, sessions, logger);
  const recheckTimer = setInterval(() => void enforceAccess().catch(() => undefined), ACCESS_RECHECK_INTERVAL_MS);
  recheckTimer.unref();

  const tunnelDeps: TunnelDependencies = {
    store,
    access,
    tokens,
    audit,
    auditQueries: config.auditQueries,
    auditParameters: config.auditParameters,
    cancels,
    sessions,
    logger,
    isShuttingDown: () => shuttingDown,
  };
  const adminDeps = { store, access, health, secretStores: config.secretStores, enforceAccess, logger };
  return {
    store,
    tokens,
    audit,
    health,
    sessions,
    tunnelDeps,
    adminDeps,
    beginShutdown: () => {
      shuttingDown = true;
      clearInterval(recheckTimer);
      stopRetention();
    },
    /** Releases everything when the node fails to start. */
    dispose: async () => {
      clearInterval(recheckTimer);
      stopRetention();
      await health.stop();
      await audit.close();
      tokens.close();
      await store.close();
    },
  };
}

/** Ends every open session whose user, resource or grant is gone. */
async function enforceSessionAccess(store: Store, access: AccessControl, sessions: SessionRegistry, logger: Logger): Promise<void> {
  for (const session of sessions.list()) {
    const user = await store.getUser(session.user.email);
    const resource = await store.getResource(session.resource.name);
    if (user && resource && (await access.mayReach(user, resource))) {
      continue;
    }
    logger.info({ connectionId: session.id, user: session.user.email, resource: session.resource.name }, 'access revoked; ending session');
    session.terminate(
      new SessionError(
        'access_revoked',
        '57P01',
        `sdm: access to resource "${session.resource.name}" was revoked for ${session.user.email}; the session is closed`,
      ),
    );
  }
}

async function shutdown(server: tls.Server, admin: http.Server, parts: Parts, config: NodeConfig, logger: Logger): Promise<void> {
  logger.info({ openSessions: parts.sessions.size }, 'node shutting down');
  parts.beginShutdown();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  admin.closeIdleConnections();

  const drained = await parts.sessions.drain(config.shutdownGraceSeconds * 1000);
  if (!drained) {
    for (const session of parts.sessions.list()) {
      session.terminate(new SessionError('node_shutdown', '57P01', 'sdm: the node is shutting down; reconnect to continue'));
    }
    await parts.sessions.drain(5_000);
  }
  admin.closeAllConnections();

  await parts.health.stop();
  await parts.audit.close();
  parts.tokens.close();
  await parts.store.close();
  await closed;
  logger.info('node stopped');
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const address = `${host}:${port}`;
  const reasons: Record<string, [string, string]> = {
    EADDRINUSE: [`${address} is already in use`, 'another node or program listens there: stop it, or set listen in node.json to a free port'],
    EACCES: [`no permission to listen on ${address}`, 'ports below 1024 need privileges: choose a higher port'],
    EADDRNOTAVAIL: [`${host} is not an address of this machine`, 'set listen in node.json to an address of this machine, such as 0.0.0.0'],
  };
  const known = error.code === undefined ? undefined : reasons[error.code];
  if (!known) {
    return error;
  }
  return new SdmError('listen_failed', `cannot listen on ${address}: ${known[0]}`, { exitCode: ExitCode.CONFLICT, hint: known[1], cause: error });
}

function listen(server: tls.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
