import { serialize } from 'pg-protocol';

import type { TokenSource } from '../identity/token-source.js';
import type { Logger } from '../log.js';
import { PROTOCOL_VERSION_3_0 } from '../pgwire/constants.js';
import type { Resource, ResourceHealth, Store } from '../store/types.js';
import { serverUsername, upstreamTarget } from './pg-session.js';
import { openUpstream } from './upstream-login.js';
import { UpstreamMessageReader } from './upstream-socket.js';

export const DEFAULT_HEALTH_INTERVAL_MS = 60_000;

/** Fraction of the interval added or taken at random, so checks of many resources spread out. */
export const HEALTH_JITTER_FRACTION = 0.1;

/** Time one check (token, login and `SELECT 1`) may take before it counts as failed. */
export const HEALTH_CHECK_TIMEOUT_MS = 15_000;

export interface HealthCheckerOptions {
  store: Store;
  tokens: TokenSource;
  logger: Logger;
  intervalMs?: number;
  random?: () => number;
}

/**
 * Checks each resource the way a client would use it: a token for its
 * managed identity, a login to the server, and `SELECT 1`. Runs when a
 * resource is added or changed, then every interval with jitter; keeps the
 * last outcome in the store.
 */
export class HealthChecker {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<ResourceHealth>>();
  private stopped = false;

  constructor(private readonly options: HealthCheckerOptions) {}

  /** Checks the resource now and then on schedule, replacing any earlier schedule. */
  watch(resource: Resource): void {
    this.unwatch(resource.name);
    if (this.stopped) {
      return;
    }
    void this.checkNow(resource).finally(() => this.schedule(resource.name));
  }

  unwatch(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  /** Runs one check; concurrent calls for the same resource share it. */
  checkNow(resource: Resource): Promise<ResourceHealth> {
    const inFlight = this.running.get(resource.name);
    if (inFlight) {
      return inFlight;
    }
    const check = this.check(resource).finally(() => this.running.delete(resource.name));
    this.running.set(resource.name, check);
    return check;
  }

  async start(): Promise<void> {
    for (const resource of await this.options.store.listResources()) {
      this.watch(resource);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const name of [...this.timers.keys()]) {
      this.unwatch(name);
    }
    await Promise.allSettled([...this.running.values()]);
  }

  private schedule(name: string): void {
    if (this.stopped) {
      return;
    }
    const timer = setTimeout(() => void this.recheck(name), this.nextDelayMs());
    timer.unref();
    this.timers.set(name, timer);
  }

  private async recheck(name: string): Promise<void> {
    const resource = await this.options.store.getResource(name);
    if (resource) {
      await this.checkNow(resource);
      this.schedule(name);
    }
  }

  private nextDelayMs(): number {
    const interval = this.options.intervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
    const random = this.options.random ?? Math.random;
    return Math.round(interval * (1 + HEALTH_JITTER_FRACTION * (2 * random() - 1)));
  }

  private async check(resource: Resource): Promise<ResourceHealth> {
    const started = Date.now();
    let error: string | null = null;
    try {
      await probe(resource, this.options.tokens);
    } catch (failure) {
      error = (failure as Error).message;
    }

    const health: ResourceHealth = {
      resource: resource.name,
      state: error === null ? 'healthy' : 'unhealthy',
      checkedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      error,
    };
    if (!this.stopped && (await this.options.store.getResource(resource.name))) {
      await this.options.store.putHealth(health);
    }
    this.options.logger.info({ resource: resource.name, state: health.state, durationMs: health.durationMs, err: error ?? undefined }, 'health check');
    return health;
  }
}

async function probe(resource: Resource, tokens: TokenSource): Promise<void> {
  const target = upstreamTarget(resource);
  const token = await tokens.getToken(resource.clientId);
  const parameters = new Map([
    ['user', serverUsername(resource)],
    ['database', resource.database],
    ['application_name', 'sdm-healthcheck'],
  ]);
  const session = await openUpstream(target, { user: parameters.get('user')!, token: token.token, protocolVersion: PROTOCOL_VERSION_3_0, parameters }, HEALTH_CHECK_TIMEOUT_MS);

  const socket = session.socket;
  const timer = setTimeout(() => socket.destroy(new Error(`SELECT 1 did not finish within ${HEALTH_CHECK_TIMEOUT_MS} ms`)), HEALTH_CHECK_TIMEOUT_MS);
  try {
    const reader = new UpstreamMessageReader(socket, target);
    socket.write(serialize.query('SELECT 1'));
    await readUntilReady(reader);
    reader.detach();
    socket.end(serialize.end());
  } finally {
    clearTimeout(timer);
    socket.destroySoon();
  }
}

async function readUntilReady(reader: UpstreamMessageReader): Promise<void> {
  let failure: string | undefined;
  for (;;) {
    const message = await reader.next();
    if (message.code === 'E') {
      failure = message.body.toString('utf8').split('\0').find((field) => field.startsWith('M'))?.slice(1) ?? 'error';
    }
    if (message.code === 'Z') {
      if (failure !== undefined) {
        throw new Error(`SELECT 1 failed: ${failure}`);
      }
      return;
    }
  }
}
