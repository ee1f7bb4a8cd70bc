import type net from 'node:net';

import type { Logger } from '../log.js';
import { backendKeyData, errorResponse } from '../pgwire/backend-messages.js';
import { FrontendScanner } from '../pgwire/frontend-scanner.js';
import { parseBindParameters } from '../pgwire/bind-parameters.js';
import type { AuditWriter } from '../store/audit-writer.js';
import type { ConnectionRecord, QueryEntry, Resource, User } from '../store/types.js';
import { readClientStartup, type FinalStartupPacket } from '../tunnel/client-startup.js';
import type { TokenSource } from '../identity/token-source.js';
import { sendCancel, type CancelRegistry } from './cancel-registry.js';
import { Relay, type RelayEnd } from './relay.js';
import { SessionError } from './session-error.js';
import type { SessionRegistry } from './session-registry.js';
import { openUpstream, type BackendKey, type UpstreamSession } from './upstream-login.js';
import type { UpstreamTarget } from './upstream-socket.js';

/** Maximum bytes of statement text kept in one query log record. */
export const MAX_AUDIT_TEXT_BYTES = 64 * 1024;

const AZURE_HOST_SUFFIX = '.database.azure.com';

export interface SessionDependencies {
  tokens: TokenSource;
  audit: AuditWriter;
  /** Whether statements go to the query log; connections are always logged. */
  auditQueries: boolean;
  /** Whether values bound to extended-protocol statements are kept with them in the query log. */
  auditParameters?: boolean;
  cancels: CancelRegistry;
  sessions: SessionRegistry;
  logger: Logger;
}

export interface SessionStart {
  id: string;
  user: User;
  resource: Resource;
  clientAddress: string | null;
  /** Bytes the agent sent after its hello frame. */
  initial: Buffer;
}

/**
 * Runs one PostgreSQL session arriving through a tunnel: reads the client's
 * startup, rewrites user and database from the resource, signs in to the
 * server with a managed-identity token, then relays bytes until either side
 * closes. Every failure that the client can be informed of reaches it as an
 * ErrorResponse, and every session leaves one connection log record.
 */
export async function runPgSession(client: net.Socket, start: SessionStart, deps: SessionDependencies): Promise<void> {
  const log = deps.logger.child({ connectionId: start.id, user: start.user.email, resource: start.resource.name });
  const record = connectionRecord(start);

  let packet: FinalStartupPacket;
  let rest: Buffer;
  try {
    ({ packet, rest } = await readClientStartup(client, start.initial));
  } catch (error) {
    log.info({ err: (error as Error).message }, 'session rejected at startup');
    client.end(errorResponse({ severity: 'FATAL', code: '08P01', message: `sdm: ${(error as Error).message}` }));
    writeRecord(deps, { ...record, outcome: 'refused', endedAt: now(), error: (error as Error).message });
    return;
  }

  if (packet.kind === 'cancel') {
    await forwardCancel(packet, start, deps, log);
    client.end();
    return;
  }

  const target = upstreamTarget(start.resource);
  let upstream: UpstreamSession;
  let database: string;
  try {
    database = chooseDatabase(start.resource, packet.parameters);
    record.database = database;
    const token = await fetchToken(start.resource, deps.tokens);
    const parameters = rewriteParameters(packet.parameters, start.resource, database);
    upstream = await openUpstream(target, {
      user: parameters.get('user')!,
      token: token,
      protocolVersion: packet.protocolVersion,
      parameters,
    });
  } catch (error) {
    failBeforeRelay(client, error, record, deps, log);
    return;
  }

  startRelay(client, rest, upstream, target, { ...start, database }, record, deps, log);
}

function startRelay(
  client: net.Socket,
  clientLeftover: Buffer,
  upstream: UpstreamSession,
  target: UpstreamTarget,
  start: SessionStart & { database: string },
  record: ConnectionRecord,
  deps: SessionDependencies,
  log: Logger,
): void {
  const nodeKey = upstream.backendKey
    ? deps.cancels.register({ target, serverKey: upstream.backendKey, userEmail: start.user.email, sessionId: start.id })
    : undefined;
  client.write(Buffer.concat(upstream.greeting.map((message) => (message.code === 'K' && nodeKey ? keyMessage(nodeKey) : message.raw))));

  deps.audit.connection(record);
  log.info({ database: start.database, clientAddress: start.clientAddress }, 'session opened');

  const auditor = deps.auditQueries ? new StatementAuditor(start.id, deps.audit, deps.auditParameters === true) : undefined;
  let closed!: () => void;
  const closedPromise = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const relay = new Relay({
    client,
    server: upstream.socket,
    serverLeftover: upstream.leftover,
    clientLeftover,
    scanner: auditor?.scanner,
    onEnd: (end) => {
      auditor?.flush();
      if (nodeKey) {
        deps.cancels.unregister(nodeKey);
      }
      finishRecord(record, end, deps, log);
      closed();
    },
  });
  deps.sessions.add({ id: start.id, user: start.user, resource: start.resource, terminate: (error) => relay.terminate(error), closed: closedPromise });
  relay.start();
}

function keyMessage(key: BackendKey): Buffer {
  return backendKeyData(key.processId, key.secretKey);
}

/**
 * Turns the client's statements into query log records. When parameters are
 * kept, an extended-protocol statement waits for the Bind that follows its
 * Parse, so that the record carries the bound values. A Bind that reuses a
 * named statement gets a record of its own.
 */
class StatementAuditor {
  readonly scanner: FrontendScanner;
  private pending?: QueryEntry;

  constructor(
    private readonly sessionId: string,
    private readonly audit: AuditWriter,
    private readonly keepParameters: boolean,
  ) {
    this.scanner = new FrontendScanner({
      maxTextBytes: MAX_AUDIT_TEXT_BYTES,
      onStatement: (text, truncated, protocol) => this.onStatement(text, truncated, protocol),
      onBind: keepParameters ? (body, truncated) => this.onBind(body, truncated) : undefined,
    });
  }

  flush(): void {
    if (this.pending) {
      this.audit.query(this.pending);
      this.pending = undefined;
    }
  }

  private onStatement(text: string, truncated: boolean, protocol: QueryEntry['protocol']): void {
    this.flush();
    const record = this.record(text, truncated, protocol);
    if (protocol === 'extended' && this.keepParameters) {
      this.pending = record;
    } else {
      this.audit.query(record);
    }
  }

  private onBind(body: Buffer, truncated: boolean): void {
    const bound = parseBindParameters(body, truncated);
    const record = this.pending ?? this.record(`-- bind to prepared statement "${bound.statement}"`, false, 'extended');
    this.pending = undefined;
    this.audit.query({ ...record, parameters: bound.values });
  }

  private record(text: string, truncated: boolean, protocol: QueryEntry['protocol']): QueryEntry {
    return { time: now(), sessionId: this.sessionId, text, truncated, protocol };
  }
}

async function forwardCancel(packet: Extract<FinalStartupPacket, { kind: 'cancel' }>, start: SessionStart, deps: SessionDependencies, log: Logger): Promise<void> {
  const entry = deps.cancels.lookup(packet.processId, packet.secretKey);
  if (!entry || (entry.userEmail !== start.user.email && !start.user.admin)) {
    log.info('cancel request matched no session of this user; ignored');
    return;
  }
  try {
    await sendCancel(entry);
    log.info({ sessionId: entry.sessionId }, 'cancel request forwarded');
  } catch (error) {
    log.warn({ sessionId: entry.sessionId, err: (error as Error).message }, 'cancel request failed');
  }
}

export function upstreamTarget(resource: Resource): UpstreamTarget {
  return {
    resourceName: resource.name,
    hostname: resource.hostname,
    port: resource.port,
    tlsMode: resource.tlsMode,
    caPem: resource.caPem,
  };
}

/**
 * Returns the database to sign in to. libpq and most drivers send the user
 * name as the database when none is given. The user name a client sends is
 * replaced by the resource's, so a database equal to it also means that none
 * was given, and selects the resource's database.
 */
function chooseDatabase(resource: Resource, parameters: Map<string, string>): string {
  const requested = parameters.get('database');
  if (requested === undefined || requested === '' || requested === parameters.get('user')) {
    return resource.database;
  }
  if (resource.restrictDatabase && requested !== resource.database) {
    throw new SessionError(
      'database_restricted',
      '42501',
      `sdm: resource "${resource.name}" allows only database "${resource.database}", and the client asked for "${requested}"`,
    );
  }
  return requested;
}

/** Returns the login name on the server, which is `user@servername` for Single Server on its Azure host names. */
export function serverUsername(resource: Resource): string {
  const host = resource.hostname.toLowerCase();
  if (resource.singleServerUsernames && host.endsWith(AZURE_HOST_SUFFIX) && !resource.username.includes('@')) {
    return `${resource.username}@${host.split('.')[0]}`;
  }
  return resource.username;
}

function rewriteParameters(parameters: Map<string, string>, resource: Resource, database: string): Map<string, string> {
  const rewritten = new Map(parameters);
  rewritten.set('user', serverUsername(resource));
  rewritten.set('database', database);
  return rewritten;
}

async function fetchToken(resource: Resource, tokens: TokenSource): Promise<string> {
  try {
    return (await tokens.getToken(resource.clientId)).token;
  } catch (error) {
    throw new SessionError(
      'token_failed',
      '08001',
      `sdm: resource "${resource.name}": cannot get a token for managed identity ${resource.clientId}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function failBeforeRelay(client: net.Socket, error: unknown, record: ConnectionRecord, deps: SessionDependencies, log: Logger): void {
  const sessionError =
    error instanceof SessionError
      ? error
      : new SessionError('internal', 'XX000', `sdm: resource "${record.resource}": internal error: ${(error as Error).message}`, { cause: error });

  log.info({ code: sessionError.code, sqlstate: sessionError.sqlstate, err: sessionError.message }, 'session failed before login completed');
  client.end(sessionError.toErrorResponse());
  const outcome = sessionError.code === 'database_restricted' ? 'refused' : 'failed';
  writeRecord(deps, { ...record, outcome, endedAt: now(), error: sessionError.message });
}

function finishRecord(record: ConnectionRecord, end: RelayEnd, deps: SessionDependencies, log: Logger): void {
  const final: ConnectionRecord = {
    ...record,
    endedAt: now(),
    outcome: end.error ? 'failed' : 'closed',
    error: end.error?.message ?? null,
    bytesToServer: end.bytesToServer,
    bytesToClient: end.bytesToClient,
  };
  writeRecord(deps, final);
  log.info({ bytesToServer: end.bytesToServer, bytesToClient: end.bytesToClient, err: end.error?.message }, 'session closed');
}

function connectionRecord(start: SessionStart): ConnectionRecord {
  return {
    id: start.id,
    startedAt: now(),
    endedAt: null,
    user: start.user.email,
    resource: start.resource.name,
    database: null,
    clientAddress: start.clientAddress,
    outcome: 'open',
    error: null,
    bytesToServer: 0,
    bytesToClient: 0,
  };
}

function writeRecord(deps: SessionDependencies, record: ConnectionRecord): void {
  deps.audit.connection(record);
}

let lastMillisecond = -1;
let lastTime = '';

/** Returns the current time in ISO form. Statements of the same millisecond share its text, because under load several arrive in one. */
function now(): string {
  const millisecond = Date.now();
  if (millisecond !== lastMillisecond) {
    lastMillisecond = millisecond;
    lastTime = new Date(millisecond).toISOString();
  }
  return lastTime;
}
