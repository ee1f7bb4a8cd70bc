// @azure/identity fixes its token endpoint per process, so each test file
// runs one node with one emulator; audit-parameters-default.test.ts checks the default.

import crypto from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { resourceBody, startTestNode, type TestNode } from '../helpers/node-harness.js';
import { sharedPostgres, uniqueName } from '../helpers/postgres.js';

interface LoggedQuery {
  text: string;
  protocol: string;
  parameters: Array<string | null> | null;
}

const nodes: TestNode[] = [];

async function nodeWithResource(auditParameters: boolean): Promise<TestNode> {
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

async function runQueries(node: TestNode): Promise<void> {
  const tunnel = await node.tunnel('params');
  const client = new pg.Client({ host: '127.0.0.1', port: tunnel.port, user: 'anyone', ssl: false });
  await client.connect();
  await client.query({ text: 'SELECT $1::text AS a, $2::int AS b, $3::text AS c', values: ['secret-ish', 42, null] });
  await client.query({ name: 'reused', text: 'SELECT $1::int AS n', values: [1] });
  await client.query({ name: 'reused', text: 'SELECT $1::int AS n', values: [2] });
  await client.end();
}

async function loggedQueries(node: TestNode, count: number): Promise<LoggedQuery[]> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const answer = await node.api('GET', '/v1/logs/queries?resource=params');
    if ((answer.body as LoggedQuery[]).length >= count) {
      return answer.body as LoggedQuery[];
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`fewer than ${count} query records arrived`);
}

afterAll(async () => {
  for (const node of nodes) {
    await node.close();
  }
});

describe('bound parameters in the query log', () => {
  let node: TestNode;

  beforeAll(async () => {
    node = await nodeWithResource(true);
    await runQueries(node);
  });

  it('keeps the values of each Bind', async () => {
    const records = await loggedQueries(node, 3);
    const first = records.find((record) => record.text.includes('$3::text'));

    expect(first?.protocol).toBe('extended');
    expect(first?.parameters).toEqual(['secret-ish', '42', null]);
  });

  it('logs a reused statement with its new values', async () => {
    const records = await loggedQueries(node, 3);
    const reused = records.filter((record) => record.parameters?.length === 1).map((record) => record.parameters![0]);

    expect(reused).toContain('1');
    expect(reused).toContain('2');
  });
});
