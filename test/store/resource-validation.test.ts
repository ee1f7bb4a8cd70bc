import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { ExitCode } from '../../src/exit-codes.js';
import { mergeResourceUpdate, validateResourceInput } from '../../src/store/resource-validation.js';
import type { Resource } from '../../src/store/types.js';

const CA_PEM = readFileSync(new URL('./fixtures/ca.pem', import.meta.url), 'utf8');
const OPTIONS = { configuredSecretStores: ['vault'] };
const GUID = '11111111-2222-3333-4444-555555555555';

/** The fields an admin must send; everything else has a default. */
const MINIMAL = {
  type: 'azure-postgres-mi',
  name: 'orders',
  hostname: 'orders.postgres.database.azure.com',
  database: 'orders',
  username: 'orders-reader',
  clientId: GUID,
};

function rejection(raw: unknown, options = OPTIONS): ValidationError {
  try {
    validateResourceInput(raw, options);
  } catch (error) {
    if (error instanceof ValidationError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a ValidationError, but the input was accepted');
}

describe('validateResourceInput defaults', () => {
  it('fills defaults', () => {
    expect(validateResourceInput(MINIMAL, OPTIONS)).toEqual({
      ...MINIMAL,
      port: 5432,
      restrictDatabase: false,
      singleServerUsernames: false,
      portOverride: null,
      bindIp: '127.0.0.1',
      tags: {},
      proxyCluster: null,
      secretStore: 'built-in',
      tlsMode: 'verify-full',
      caPem: null,
    });
  });

  it('accepts every field', () => {
    const input = validateResourceInput(
      {
        ...MINIMAL,
        port: '6432',
        restrictDatabase: true,
        singleServerUsernames: true,
        portOverride: 15432,
        bindIp: '127.1.2.3',
        tags: 'env=prod, team=data',
        proxyCluster: 'west-1',
        tlsMode: 'verify-ca',
        caPem: CA_PEM,
      },
      OPTIONS,
    );

    expect(input.port).toBe(6432);
    expect(input.tags).toEqual({ env: 'prod', team: 'data' });
    expect(input.bindIp).toBe('127.1.2.3');
    expect(input.caPem).toBe(CA_PEM);
  });

  it('null means default', () => {
    const input = validateResourceInput({ ...MINIMAL, port: null, bindIp: null, tlsMode: null, tags: null }, OPTIONS);

    expect(input.port).toBe(5432);
    expect(input.bindIp).toBe('127.0.0.1');
    expect(input.tlsMode).toBe('verify-full');
    expect(input.tags).toEqual({});
  });

  it('IP address hostnames', () => {
    expect(validateResourceInput({ ...MINIMAL, hostname: '10.0.0.4' }, OPTIONS).hostname).toBe('10.0.0.4');
    expect(validateResourceInput({ ...MINIMAL, hostname: '::1' }, OPTIONS).hostname).toBe('::1');
  });

  it('external secret store paths', () => {
    const input = validateResourceInput(
      { ...MINIMAL, secretStore: 'vault', username: 'db/orders?key=user', clientId: 'identities/orders?key=client-id' },
      OPTIONS,
    );

    expect(input.secretStore).toBe('vault');
    expect(input.username).toBe('db/orders?key=user');
    expect(input.clientId).toBe('identities/orders?key=client-id');
  });
});

const LONG = 'x'.repeat(256);
const TOO_MANY_TAGS = Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`k${index}`, 'v']));

// One row per rule: the input, the field the error names, and text its message must contain.
const CASES: Array<[string, Record<string, unknown>, string, string]> = [
  ['not an object', [] as unknown as Record<string, unknown>, 'resource', 'expected a JSON object'],
  ['unknown field', { ...MINIMAL, colour: 'blue' }, 'colour', 'unknown resource field "colour"'],
  ['missing type', { ...MINIMAL, type: undefined }, 'type', 'missing type: expected "azure-postgres-mi"'],
  ['wrong type', { ...MINIMAL, type: 'mysql' }, 'type', 'invalid type "mysql"'],
  ['missing name', { ...MINIMAL, name: '' }, 'name', 'missing name'],
  ['name too long', { ...MINIMAL, name: LONG }, 'name', 'expected 1 to 255 characters'],
  ['name with quote', { ...MINIMAL, name: "o'rders" }, 'name', 'without quotes'],
  ['name with backtick', { ...MINIMAL, name: 'o`rders' }, 'name', 'invalid name "o`rders"'],
  ['name with angle bracket', { ...MINIMAL, name: '<orders>' }, 'name', 'angle brackets'],
  ['name with slash', { ...MINIMAL, name: 'orders/prod' }, 'name', 'slashes'],
  ['name of one dot', { ...MINIMAL, name: '.' }, 'name', 'not . or ..'],
  ['name of two dots', { ...MINIMAL, name: '..' }, 'name', 'not . or ..'],
  ['name with control character', { ...MINIMAL, name: 'ord\u0007ers' }, 'name', '"ord\\u0007ers"'],
  ['name with leading space', { ...MINIMAL, name: ' orders' }, 'name', 'surrounding spaces'],
  ['missing hostname', { ...MINIMAL, hostname: undefined }, 'hostname', 'missing hostname: expected a DNS name'],
  ['bad hostname', { ...MINIMAL, hostname: 'bad_host!.example.com' }, 'hostname', 'invalid hostname "bad_host!.example.com"'],
  ['numeric hostname', { ...MINIMAL, hostname: '999.1.1.1' }, 'hostname', 'or an IP address'],
  ['port too high', { ...MINIMAL, port: 70000 }, 'port', 'invalid port "70000": expected an integer from 1 to 65535'],
  ['port zero', { ...MINIMAL, port: 0 }, 'port', 'invalid port "0"'],
  ['port fraction', { ...MINIMAL, port: 5432.5 }, 'port', 'expected an integer'],
  ['port text', { ...MINIMAL, port: 'abc' }, 'port', 'invalid port "abc"'],
  ['missing database', { ...MINIMAL, database: undefined }, 'database', 'missing database'],
  ['database too long', { ...MINIMAL, database: 'd'.repeat(64) }, 'database', '1 to 63 bytes'],
  ['database multibyte too long', { ...MINIMAL, database: 'é'.repeat(32) }, 'database', '1 to 63 bytes'],
  ['missing username', { ...MINIMAL, username: null }, 'username', 'missing username'],
  ['username too long', { ...MINIMAL, username: 'u'.repeat(129) }, 'username', '1 to 128 bytes'],
  ['missing clientId', { ...MINIMAL, clientId: undefined }, 'clientId', 'missing clientId'],
  ['clientId not a GUID', { ...MINIMAL, clientId: 'my-identity' }, 'clientId', 'invalid clientId "my-identity": expected the managed identity\'s client ID, a GUID'],
  ['restrictDatabase not boolean', { ...MINIMAL, restrictDatabase: 'yes' }, 'restrictDatabase', 'invalid restrictDatabase "yes": expected true or false'],
  ['singleServerUsernames not boolean', { ...MINIMAL, singleServerUsernames: 1 }, 'singleServerUsernames', 'expected true or false'],
  ['portOverride too low', { ...MINIMAL, portOverride: 80 }, 'portOverride', 'invalid portOverride "80": expected an integer from 1024 to 64999'],
  ['portOverride too high', { ...MINIMAL, portOverride: 65000 }, 'portOverride', 'from 1024 to 64999'],
  ['bindIp not loopback', { ...MINIMAL, bindIp: '10.0.0.1' }, 'bindIp', 'invalid bindIp "10.0.0.1": expected an IPv4 loopback address in 127.0.0.0/8'],
  ['bindIp IPv6', { ...MINIMAL, bindIp: '::1' }, 'bindIp', 'IPv4 loopback'],
  ['tags not object', { ...MINIMAL, tags: ['env'] }, 'tags', 'expected an object of string values'],
  ['tags text without equals', { ...MINIMAL, tags: 'env' }, 'tags', 'invalid tags item "env": expected key=value'],
  ['tag value not string', { ...MINIMAL, tags: { env: 1 } }, 'tags', 'expected a string'],
  ['tag key empty', { ...MINIMAL, tags: '=prod' }, 'tags', 'key "": expected 1 to 128 characters'],
  ['tag key too long', { ...MINIMAL, tags: { ['k'.repeat(129)]: 'v' } }, 'tags', 'expected 1 to 128 characters'],
  ['tag value too long', { ...MINIMAL, tags: { env: 'v'.repeat(257) } }, 'tags', 'expected at most 256 characters'],
  ['too many tags', { ...MINIMAL, tags: TOO_MANY_TAGS }, 'tags', '51 tags given, expected at most 50'],
  ['duplicate tag key', { ...MINIMAL, tags: 'env=prod,env=dev' }, 'tags', 'tag key "env" is given twice'],
  ['proxyCluster bad name', { ...MINIMAL, proxyCluster: 'west 1' }, 'proxyCluster', 'invalid proxyCluster "west 1": expected null or 1 to 64 letters'],
  ['proxyCluster too long', { ...MINIMAL, proxyCluster: 'c'.repeat(65) }, 'proxyCluster', '1 to 64'],
  ['secret store not configured', { ...MINIMAL, secretStore: 'aws' }, 'secretStore', 'secret store "aws" is not configured on this node (configured: built-in, vault)'],
  ['secret path username', { ...MINIMAL, secretStore: 'vault', username: 'orders-reader', clientId: 'a/b?key=c' }, 'username', 'like path/to/credential?key=name'],
  ['secret path clientId', { ...MINIMAL, secretStore: 'vault', username: 'a/b?key=c', clientId: GUID }, 'clientId', 'a path in secret store "vault"'],
  ['secret path dot segment', { ...MINIMAL, secretStore: 'vault', username: 'a/../b?key=c', clientId: 'a/b?key=c' }, 'username', 'invalid username "a/../b?key=c"'],
  ['tlsMode unknown', { ...MINIMAL, tlsMode: 'prefer' }, 'tlsMode', 'invalid tlsMode "prefer": expected one of verify-full, verify-ca, require, disable'],
  ['caPem without certificate', { ...MINIMAL, caPem: 'hello' }, 'caPem', 'expected null or PEM text with at least one -----BEGIN CERTIFICATE----- block'],
  ['caPem with tlsMode disable', { ...MINIMAL, tlsMode: 'disable', caPem: CA_PEM }, 'caPem', 'tlsMode disable opens no TLS connection'],
  ['caPem broken certificate', { ...MINIMAL, caPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, 'caPem', 'certificate 1 of 1 could not be parsed'],
];

describe('validateResourceInput rules', () => {
  it.each(CASES)('%s', (_label, raw, field, message) => {
    const error = rejection(raw);

    expect(error.code).toBe('invalid_value');
    expect(error.exitCode).toBe(ExitCode.USAGE);
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it('secret store message, none configured', () => {
    const error = rejection({ ...MINIMAL, secretStore: 'vault' }, { configuredSecretStores: [] });

    expect(error.message).toBe('secret store "vault" is not configured on this node (configured: built-in)');
  });
});

describe('mergeResourceUpdate', () => {
  const existing: Resource = {
    ...validateResourceInput({ ...MINIMAL, portOverride: 15432, tags: { env: 'prod' } }, OPTIONS),
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
  };

  it('keeps fields the patch leaves out', () => {
    const merged = mergeResourceUpdate(existing, { port: 6432 }, OPTIONS);

    expect(merged.port).toBe(6432);
    expect(merged.portOverride).toBe(15432);
    expect(merged.tags).toEqual({ env: 'prod' });
    expect(merged).not.toHaveProperty('createdAt');
  });

  it('null clears a nullable field', () => {
    expect(mergeResourceUpdate(existing, { portOverride: null }, OPTIONS).portOverride).toBeNull();
  });

  it('tags replaced whole', () => {
    expect(mergeResourceUpdate(existing, { tags: 'team=data' }, OPTIONS).tags).toEqual({ team: 'data' });
  });

  it('rename', () => {
    expect(mergeResourceUpdate(existing, { name: 'orders-v2' }, OPTIONS).name).toBe('orders-v2');
  });

  it('invalid patch value', () => {
    expect(() => mergeResourceUpdate(existing, { port: 70000 }, OPTIONS)).toThrow('invalid port "70000": expected an integer from 1 to 65535');
  });

  it('unknown patch field', () => {
    expect(() => mergeResourceUpdate(existing, { createdAt: 'now' }, OPTIONS)).toThrow('unknown resource field "createdAt"');
  });

  it('switching store needs new paths', () => {
    expect(() => mergeResourceUpdate(existing, { secretStore: 'vault' }, OPTIONS)).toThrow(/invalid username "orders-reader"/);
  });
});
