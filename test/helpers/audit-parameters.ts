// Shared by the two test files on bound parameters in the query log: a node
// with one resource on the shared server, a few extended-protocol queries, and
// a reader of the query log. @azure/identity fixes its token endpoint per
// process, so each test file runs its own node and emulator.

import crypto from 'node:crypto';

import pg from 'pg';
import { expect } from 'vitest';

import { resourceBody, startTestNode, type TestNode } from './node-harness.js';
import { sharedPostgres, uniqueName } from './postgres.js';

export interface LoggedQuery {
  text: string;
  protocol: string;
  parameters: Array<string | null> | null;
}

/** Every node started here, for the test file to close. */
export const nodes: TestNode[] = [];

export async function nodeWithResource(auditParameters: boolean): Promise<TestNode> {
  const postgres = await sharedPostgres();
  const clientId = crypto.randomUUID();
  const role = uniqueName('mi_params');
  const database = uniqueName('db');
  await postgres.createLoginRole(role, { password: crypto.randomBytes(16).toString('hex'), auth: 'password', database });

  const node = await startTestNode({
    identities: [clientId],
    config: { auditParameters },
    onIssue: (_clientId, token) => postgres.setPassword(role, token, 'password'),
  });
  nodes.push(node);
  const added = await node.api('POST', '/v1/resources', resourceBody({ name: 'params', port: postgres.port, database, username: role, clientId, caPem: postgres.caPem }));
  expect(added.status).toBe(201);
  return node;
}

export async function runQueries(node: TestNode): Promise<void> {
  const tunnel = await node.tunnel('params');
  const client = new pg.Client({ host: '127.0.0.1', port: tunnel.port, user: 'anyone', ssl: false });
  await client.connect();
  await client.query({ text: 'SELECT $1::text AS a, $2::int AS b, $3::text AS c', values: ['secret-ish', 42, null] });
  await client.query({ name: 'reused', text: 'SELECT $1::int AS n', values: [1] });
  await client.query({ name: 'reused', text: 'SELECT $1::int AS n', values: [2] });
  await client.end();
}

export async function loggedQueries(node: TestNode, count: number): Promise<LoggedQuery[]> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const answer = await node.api('GET', '/v1/logs/queries?resource=params');
    if ((answer.body as LoggedQuery[]).length >= count) {
      return answer.body as LoggedQuery[];
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`fewer than ${count} query records arrived`);
}
