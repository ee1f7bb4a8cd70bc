// Resource and resource-health records of the embedded store.

import type { StatementSource } from './statement-cache.js';
import { StoreError } from './store-error.js';
import type { Resource, ResourceHealth, ResourceInput, TlsMode } from './types.js';
import { RESOURCE_TYPE } from './types.js';

interface ResourceRow {
  id: number;
  name: string;
  hostname: string;
  port: number;
  database_name: string;
  username: string;
  client_id: string;
  restrict_database: number;
  single_server_usernames: number;
  port_override: number | null;
  bind_ip: string;
  tags: string;
  proxy_cluster: string | null;
  secret_store: string;
  tls_mode: TlsMode;
  ca_pem: string | null;
  created_at: string;
  updated_at: string;
}

interface HealthRow {
  name: string;
  state: ResourceHealth['state'];
  checked_at: string | null;
  duration_ms: number | null;
  error: string | null;
}

const COLUMNS_SQL = `name = @name, type = @type, hostname = @hostname, port = @port, database_name = @database,
  username = @username, client_id = @clientId, restrict_database = @restrictDatabase,
  single_server_usernames = @singleServerUsernames, port_override = @portOverride, bind_ip = @bindIp, tags = @tags,
  proxy_cluster = @proxyCluster, secret_store = @secretStore, tls_mode = @tlsMode, ca_pem = @caPem, updated_at = @now`;

/** Reads and changes resources and their health. Callers wrap changes in a transaction. */
export class SqliteResources {
  constructor(
    private readonly db: StatementSource,
    private readonly now: () => string,
  ) {}

  get(name: string): Resource | undefined {
    const row = this.db.prepare('SELECT * FROM resources WHERE name = ?').get(name) as ResourceRow | undefined;
    return row && rowToResource(row);
  }

  list(): Resource[] {
    const rows = this.db.prepare('SELECT * FROM resources ORDER BY name').all() as ResourceRow[];
    return rows.map(rowToResource);
  }

  /** Returns the row id of a resource, or throws StoreError `not_found`. */
  idOf(name: string): number {
    const row = this.db.prepare('SELECT id FROM resources WHERE name = ?').get(name) as { id: number } | undefined;
    if (!row) {
      throw resourceNotFound(name);
    }
    return row.id;
  }

  add(input: ResourceInput): Resource {
    this.checkConflicts(input, null);

    this.db
      .prepare(
        `INSERT INTO resources (name, type, hostname, port, database_name, username, client_id, restrict_database,
           single_server_usernames, port_override, bind_ip, tags, proxy_cluster, secret_store, tls_mode, ca_pem,
           created_at, updated_at)
         VALUES (@name, @type, @hostname, @port, @database, @username, @clientId, @restrictDatabase,
           @singleServerUsernames, @portOverride, @bindIp, @tags, @proxyCluster, @secretStore, @tlsMode, @caPem,
           @now, @now)`,
      )
      .run(this.parameters(input));

    return this.get(input.name)!;
  }

  /** Replaces every field of the named resource; a different `input.name` renames it, keeping grants and health. */
  update(name: string, input: ResourceInput): Resource {
    const id = this.idOf(name);
    this.checkConflicts(input, id);

    this.db.prepare(`UPDATE resources SET ${COLUMNS_SQL} WHERE id = @id`).run({ ...this.parameters(input), id });

    return this.get(input.name)!;
  }

  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM resources WHERE name = ?').run(name).changes > 0;
  }

  getHealth(name: string): ResourceHealth | undefined {
    const row = this.db
      .prepare(
        `SELECT r.name, h.state, h.checked_at, h.duration_ms, h.error
         FROM resource_health h JOIN resources r ON r.id = h.resource_id WHERE r.name = ?`,
      )
      .get(name) as HealthRow | undefined;
    return row && rowToHealth(row);
  }

  putHealth(health: ResourceHealth): void {
    const id = this.idOf(health.resource);

    this.db
      .prepare(
        `INSERT INTO resource_health (resource_id, state, checked_at, duration_ms, error)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (resource_id) DO UPDATE SET state = excluded.state, checked_at = excluded.checked_at,
           duration_ms = excluded.duration_ms, error = excluded.error`,
      )
      .run(id, health.state, health.checkedAt, health.durationMs, health.error);
  }

  // Checked before writing so the error can name the resource already
  // holding the name or port; the unique indexes stay as the last guard.
  private checkConflicts(input: ResourceInput, selfId: number | null): void {
    const sameName = this.db.prepare('SELECT id FROM resources WHERE name = ?').get(input.name) as { id: number } | undefined;
    if (sameName && sameName.id !== selfId) {
      throw new StoreError('conflict', `resource name "${input.name}" is already in use`, {
        field: 'name',
        hint: 'choose another name, or update the existing resource',
      });
    }

    if (input.portOverride === null) {
      return;
    }
    const samePort = this.db
      .prepare('SELECT id, name FROM resources WHERE bind_ip = ? AND port_override = ?')
      .get(input.bindIp, input.portOverride) as { id: number; name: string } | undefined;
    if (samePort && samePort.id !== selfId) {
      throw new StoreError(
        'conflict',
        `portOverride ${input.portOverride} on bindIp ${input.bindIp} is already used by resource "${samePort.name}"`,
        { field: 'portOverride', hint: 'choose another port override, or another 127.x.y.z bind address' },
      );
    }
  }

  private parameters(input: ResourceInput): Record<string, unknown> {
    return {
      ...input,
      type: RESOURCE_TYPE,
      restrictDatabase: input.restrictDatabase ? 1 : 0,
      singleServerUsernames: input.singleServerUsernames ? 1 : 0,
      tags: JSON.stringify(input.tags),
      now: this.now(),
    };
  }
}

export function resourceNotFound(name: string): StoreError {
  return new StoreError('not_found', `resource "${name}" not found`, {
    field: 'resource',
    hint: 'run `sdm resource list` to see the resources that exist',
  });
}

function rowToResource(row: ResourceRow): Resource {
  return {
    name: row.name,
    type: RESOURCE_TYPE,
    hostname: row.hostname,
    port: row.port,
    database: row.database_name,
    username: row.username,
    clientId: row.client_id,
    restrictDatabase: row.restrict_database === 1,
    singleServerUsernames: row.single_server_usernames === 1,
    portOverride: row.port_override,
    bindIp: row.bind_ip,
    tags: JSON.parse(row.tags) as Record<string, string>,
    proxyCluster: row.proxy_cluster,
    secretStore: row.secret_store,
    tlsMode: row.tls_mode,
    caPem: row.ca_pem,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function rowToHealth(row: HealthRow): ResourceHealth {
  return {
    resource: row.name,
    state: row.state,
    checkedAt: row.checked_at,
    durationMs: row.duration_ms,
    error: row.error,
  };
}
