// Records the node keeps, and the interface every store implements. The
// embedded SQLite store is the default. A PostgreSQL store with the same
// interface would let several nodes of a proxy cluster share one set of records.

export const RESOURCE_TYPE = 'azure-postgres-mi';

export type TlsMode = 'verify-full' | 'verify-ca' | 'require' | 'disable';

export const TLS_MODES: readonly TlsMode[] = ['verify-full', 'verify-ca', 'require', 'disable'];

/** Name of the secret store that keeps values in the resource record itself. */
export const BUILT_IN_SECRET_STORE = 'built-in';

export interface Resource {
  name: string;
  type: typeof RESOURCE_TYPE;
  hostname: string;
  port: number;
  database: string;
  /** PostgreSQL role name, or a `path/to/credential?key=name` path in an external secret store. */
  username: string;
  /** Client ID of the managed identity, or a secret store path as for `username`. */
  clientId: string;
  restrictDatabase: boolean;
  singleServerUsernames: boolean;
  /** Local port the agent listens on for this resource, or null to pick a free one. */
  portOverride: number | null;
  /** Loopback address the agent binds for this resource. */
  bindIp: string;
  tags: Record<string, string>;
  proxyCluster: string | null;
  secretStore: string;
  tlsMode: TlsMode;
  /** PEM text of a private CA that signs the server's certificate, or null for the system CAs. */
  caPem: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Resource fields an admin sends; the store adds the timestamps. */
export type ResourceInput = Omit<Resource, 'createdAt' | 'updatedAt'>;

export type HealthState = 'healthy' | 'unhealthy';

export interface ResourceHealth {
  resource: string;
  state: HealthState;
  checkedAt: string | null;
  durationMs: number | null;
  error: string | null;
}

export interface User {
  email: string;
  admin: boolean;
  roles: string[];
  createdAt: string;
}

export interface Role {
  name: string;
  /** Resource names granted one by one. */
  resources: string[];
  /** Tag grants as `key=value`; each covers every resource carrying the tag. */
  tags: string[];
  members: string[];
}

export type ConnectionOutcome = 'open' | 'closed' | 'refused' | 'failed';

export interface ConnectionRecord {
  id: string;
  startedAt: string;
  endedAt: string | null;
  user: string | null;
  resource: string;
  database: string | null;
  clientAddress: string | null;
  outcome: ConnectionOutcome;
  error: string | null;
  bytesToServer: number;
  bytesToClient: number;
}

export type QueryProtocol = 'simple' | 'extended';

/**
 * One statement as the node writes it. The session's user, resource and
 * database are kept once, in its connection record, whose id is `sessionId`.
 */
export interface QueryEntry {
  time: string;
  sessionId: string;
  text: string;
  truncated: boolean;
  protocol: QueryProtocol;
  /**
   * Values bound to an extended-protocol statement, when the node is
   * configured to keep them: text as sent, binary values as `\x` hex, SQL
   * NULL as null. Absent or null otherwise.
   */
  parameters?: Array<string | null> | null;
}

/**
 * A statement as the query log lists it: the entry with its session's user,
 * resource and database. They are empty when the session's connection record
 * is missing, which happens only when writing it failed.
 */
export interface QueryRecord extends QueryEntry {
  user: string;
  resource: string;
  database: string;
}

export interface LogQuery {
  since?: string;
  until?: string;
  resource?: string;
  user?: string;
  /** Return records after this row id, for `--follow`. */
  afterId?: number;
  limit?: number;
}

export interface Store {
  getResource(name: string): Promise<Resource | undefined>;
  listResources(): Promise<Resource[]>;
  /** Inserts a resource; rejects with StoreError `conflict` on a duplicate name or port. */
  addResource(input: ResourceInput): Promise<Resource>;
  /** Replaces a resource in one transaction; rejects with `not_found` or `conflict`. */
  updateResource(name: string, input: ResourceInput): Promise<Resource>;
  deleteResource(name: string): Promise<boolean>;

  getHealth(name: string): Promise<ResourceHealth | undefined>;
  putHealth(health: ResourceHealth): Promise<void>;

  /** Looks a user up by the SHA-256 hash of their API token. */
  findUserByTokenHash(tokenHash: string): Promise<User | undefined>;
  getUser(email: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  addUser(email: string, admin: boolean, tokenHash: string): Promise<User>;
  setUserTokenHash(email: string, tokenHash: string): Promise<boolean>;
  deleteUser(email: string): Promise<boolean>;

  listRoles(): Promise<Role[]>;
  addRole(name: string): Promise<Role>;
  deleteRole(name: string): Promise<boolean>;
  grant(role: string, grant: { resource?: string; tag?: string }): Promise<void>;
  revoke(role: string, grant: { resource?: string; tag?: string }): Promise<boolean>;
  assignRole(role: string, email: string): Promise<void>;
  unassignRole(role: string, email: string): Promise<boolean>;

  /** Writes a batch of connection records; a record with a known id replaces the earlier one. */
  writeConnections(records: ConnectionRecord[]): Promise<void>;
  /** Writes a batch of statements; each belongs to the connection record whose id is its `sessionId`. */
  writeQueries(entries: QueryEntry[]): Promise<void>;
  listConnections(query: LogQuery): Promise<Array<ConnectionRecord & { rowId: number }>>;
  listQueries(query: LogQuery): Promise<Array<QueryRecord & { rowId: number }>>;
  /** Deletes statements older than the given time, and connections that ended before it; returns how many went. */
  pruneLogs(before: string): Promise<number>;
  /** Ends every connection record still open as failed, with this time and error; returns how many there were. */
  endOpenConnections(endedAt: string, error: string): Promise<number>;

  close(): Promise<void>;
}
