// Validation of the resource an admin sends to create or change. Every error
// names the field, quotes the value given and states what is allowed, so the
// admin API and the CLI can pass the message on unchanged.

import { ValidationError } from '../errors.js';
import {
  checkBindIp,
  checkBoolean,
  checkBoundedText,
  checkCaPem,
  checkClientId,
  checkClusterName,
  checkHostname,
  checkInteger,
  checkName,
  checkSecretPath,
  invalid,
  MAX_DATABASE_BYTES,
  MAX_USERNAME_BYTES,
  missing,
} from './resource-fields.js';
import { parseTags } from './tags.js';
import { BUILT_IN_SECRET_STORE, RESOURCE_TYPE, TLS_MODES, type Resource, type ResourceInput, type TlsMode } from './types.js';
import { quoteValue } from './value-text.js';

export const DEFAULT_POSTGRES_PORT = 5432;
export const DEFAULT_BIND_IP = '127.0.0.1';
export const DEFAULT_TLS_MODE: TlsMode = 'verify-full';
export const MIN_PORT_OVERRIDE = 1024;
export const MAX_PORT_OVERRIDE = 64999;

export interface ResourceValidationOptions {
  /** Secret stores configured on this node besides `built-in`, which is always available. */
  configuredSecretStores: string[];
}

/** Every field a resource input may carry. */
export const RESOURCE_INPUT_FIELDS = [
  'type',
  'name',
  'hostname',
  'port',
  'database',
  'secretStore',
  'username',
  'clientId',
  'restrictDatabase',
  'singleServerUsernames',
  'portOverride',
  'bindIp',
  'tags',
  'proxyCluster',
  'tlsMode',
  'caPem',
] as const satisfies ReadonlyArray<keyof ResourceInput>;

/**
 * Checks a resource an admin sent and fills in defaults: port 5432, bind IP
 * 127.0.0.1, TLS mode verify-full, the built-in secret store, no tags and
 * false flags. For a field with a default, null means "use the default".
 * Throws ValidationError for the first field that breaks a rule, or for any
 * field not listed in RESOURCE_INPUT_FIELDS.
 */
export function validateResourceInput(raw: unknown, options: ResourceValidationOptions): ResourceInput {
  const input = checkFields(raw);
  const secretStore = checkSecretStore(input.secretStore, options.configuredSecretStores);
  const tlsMode = withDefault(input.tlsMode, DEFAULT_TLS_MODE, checkTlsMode);
  const caPem = withDefault(input.caPem, null, checkCaPem);
  if (tlsMode === 'disable' && caPem !== null) {
    throw new ValidationError('caPem', 'a CA certificate is set, but tlsMode disable opens no TLS connection to check it with: expected no caPem with tlsMode disable (leave out --ca-file, or pass --no-ca-file to sdm resource update)');
  }

  return {
    type: checkType(input.type),
    name: checkName(input.name),
    hostname: checkHostname(input.hostname),
    port: withDefault(input.port, DEFAULT_POSTGRES_PORT, (value) => checkInteger('port', value, 1, 65535)),
    database: checkBoundedText('database', input.database, MAX_DATABASE_BYTES),
    username: checkUsername(input.username, secretStore),
    clientId: secretStore === BUILT_IN_SECRET_STORE ? checkClientId(input.clientId) : checkSecretPath('clientId', input.clientId, secretStore),
    restrictDatabase: withDefault(input.restrictDatabase, false, (value) => checkBoolean('restrictDatabase', value)),
    singleServerUsernames: withDefault(input.singleServerUsernames, false, (value) => checkBoolean('singleServerUsernames', value)),
    portOverride: withDefault(input.portOverride, null, (value) => checkInteger('portOverride', value, MIN_PORT_OVERRIDE, MAX_PORT_OVERRIDE)),
    bindIp: withDefault(input.bindIp, DEFAULT_BIND_IP, checkBindIp),
    tags: withDefault(input.tags, {}, (value) => parseTags(value)),
    proxyCluster: withDefault(input.proxyCluster, null, checkClusterName),
    secretStore,
    tlsMode,
    caPem,
  };
}

/**
 * Applies a partial change to a stored resource and validates the result as
 * a whole. Fields the patch leaves out keep their stored values. A field
 * set to null goes back to its default (or to null where null is allowed).
 * A new `name` renames the resource.
 */
export function mergeResourceUpdate(existing: Resource, patch: unknown, options: ResourceValidationOptions): ResourceInput {
  const changes = checkFields(patch);
  const { createdAt: _createdAt, updatedAt: _updatedAt, ...current } = existing;

  const merged: Record<string, unknown> = { ...current };
  for (const [field, value] of Object.entries(changes)) {
    if (value !== undefined) {
      merged[field] = value;
    }
  }
  return validateResourceInput(merged, options);
}

function checkFields(raw: unknown): Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ValidationError('resource', `invalid resource ${quoteValue(raw)}: expected a JSON object with the fields ${RESOURCE_INPUT_FIELDS.join(', ')}`);
  }

  const allowed: ReadonlySet<string> = new Set(RESOURCE_INPUT_FIELDS);
  const unknown = Object.keys(raw).filter((field) => !allowed.has(field));
  if (unknown.length > 0) {
    const names = unknown.map((field) => quoteValue(field)).join(', ');
    throw new ValidationError(unknown[0], `unknown resource field ${names}: expected only ${RESOURCE_INPUT_FIELDS.join(', ')}`);
  }
  return raw as Record<string, unknown>;
}

function withDefault<T, D>(value: unknown, fallback: D, check: (value: unknown) => T): T | D {
  return value === undefined || value === null ? fallback : check(value);
}

function checkType(value: unknown): typeof RESOURCE_TYPE {
  if (value === undefined || value === null) {
    throw missing('type', `"${RESOURCE_TYPE}"`);
  }
  if (value !== RESOURCE_TYPE) {
    throw invalid('type', value, `"${RESOURCE_TYPE}", the only resource type this node supports`);
  }
  return RESOURCE_TYPE;
}

function checkSecretStore(value: unknown, configured: string[]): string {
  if (value === undefined || value === null || value === BUILT_IN_SECRET_STORE) {
    return BUILT_IN_SECRET_STORE;
  }

  const names = [BUILT_IN_SECRET_STORE, ...configured.filter((name) => name !== BUILT_IN_SECRET_STORE)];
  if (typeof value !== 'string' || !names.includes(value)) {
    throw new ValidationError('secretStore', `secret store ${quoteValue(value)} is not configured on this node (configured: ${names.join(', ')})`);
  }
  return value;
}

function checkUsername(value: unknown, secretStore: string): string {
  if (secretStore !== BUILT_IN_SECRET_STORE) {
    return checkSecretPath('username', value, secretStore);
  }
  return checkBoundedText('username', value, MAX_USERNAME_BYTES);
}

function checkTlsMode(value: unknown): TlsMode {
  if (!TLS_MODES.includes(value as TlsMode)) {
    throw invalid('tlsMode', value, `one of ${TLS_MODES.join(', ')}`);
  }
  return value as TlsMode;
}
