// `sdm resource …`: register, list, show, change, delete and health-check
// resources on the node. Changes need an admin token.

import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { RESOURCE_TYPE, type ResourceHealth } from '../store/types.js';
import type { ResourceView } from '../tunnel/admin-api.js';
import type { CliContext } from './context.js';
import { resourceBody, type ResourceFlags } from './resource-options.js';
import { fetchResources, filterResources, formatTags } from './resource-select.js';

export function resourcePath(name: string): string {
  return `/v1/resources/${encodeURIComponent(name)}`;
}

export async function addResource(context: CliContext, type: string, name: string, flags: ResourceFlags): Promise<void> {
  if (type !== RESOURCE_TYPE) {
    throw new SdmError('usage', `unknown resource type "${type}"; expected ${RESOURCE_TYPE}`, {
      exitCode: ExitCode.USAGE,
      hint: `write sdm resource add ${RESOURCE_TYPE} ${name} …`,
    });
  }

  const client = await context.nodeClient();
  const created = await client.post<ResourceView>('/v1/resources', { type, name, ...(await resourceBody(flags)) });
  printResource(context, created, flags.json, `added resource ${created.name}`);
}

export async function updateResource(context: CliContext, name: string, flags: ResourceFlags): Promise<void> {
  const body = await resourceBody(flags);
  if (Object.keys(body).length === 0) {
    throw new SdmError('usage', 'no change given', { exitCode: ExitCode.USAGE, hint: `run sdm resource update ${name} --help to see the fields` });
  }

  const client = await context.nodeClient();
  const updated = await client.patch<ResourceView>(resourcePath(name), body);
  printResource(context, updated, flags.json, `updated resource ${updated.name}`);
}

export async function listResources(context: CliContext, options: { filter?: string; json?: boolean }): Promise<void> {
  const client = await context.nodeClient();
  const resources = filterResources(await fetchResources(client), options.filter);
  if (options.json === true) {
    context.output.json(resources);
    return;
  }

  await context.output.table(
    ['NAME', 'TYPE', 'HOSTNAME', 'PORT', 'DATABASE', 'HEALTH', 'TAGS'],
    resources.map((resource) => [
      resource.name,
      resource.type,
      resource.hostname,
      String(resource.port),
      resource.database,
      resource.health.state,
      formatTags(resource.tags),
    ]),
  );
}

export async function showResource(context: CliContext, name: string, options: { json?: boolean }): Promise<void> {
  const client = await context.nodeClient();
  printResource(context, await client.get<ResourceView>(resourcePath(name)), options.json);
}

export async function deleteResource(context: CliContext, name: string, options: { json?: boolean }): Promise<void> {
  const client = await context.nodeClient();
  const result = await client.delete<{ deleted: true }>(resourcePath(name));
  if (options.json === true) {
    context.output.json({ name, ...result });
  } else {
    context.output.line(`deleted resource ${name}`);
  }
}

export async function checkHealth(context: CliContext, name: string, options: { json?: boolean }): Promise<void> {
  const client = await context.nodeClient();
  const health = await client.post<ResourceHealth>(`${resourcePath(name)}/healthcheck`);
  if (health.state !== 'healthy') {
    context.exitCode = ExitCode.FAILURE;
  }

  if (options.json === true) {
    context.output.json(health);
  } else if (health.state === 'healthy') {
    context.output.line(`${name}: healthy${health.durationMs === null ? '' : ` (${health.durationMs} ms)`}`);
  } else {
    context.output.line(`${name}: unhealthy: ${health.error ?? 'no reason given'}`);
  }
}

function printResource(context: CliContext, resource: ResourceView, json: boolean | undefined, headline?: string): void {
  if (json === true) {
    context.output.json(resource);
    return;
  }
  if (headline !== undefined) {
    context.output.note(headline);
  }

  context.output.fields([
    ['name', resource.name],
    ['type', resource.type],
    ['hostname', resource.hostname],
    ['port', String(resource.port)],
    ['database', resource.database],
    ['restrict database', resource.restrictDatabase ? 'yes' : 'no'],
    ['username', resource.username],
    ['client ID', resource.clientId],
    ['single server usernames', resource.singleServerUsernames ? 'yes' : 'no'],
    ['bind IP', resource.bindIp],
    ['port override', resource.portOverride === null ? '-' : String(resource.portOverride)],
    ['tags', formatTags(resource.tags) || '-'],
    ['proxy cluster', resource.proxyCluster ?? '-'],
    ['secret store', resource.secretStore],
    ['TLS mode', resource.tlsMode],
    ['CA', resource.caPem === null ? 'system CAs' : 'custom PEM'],
    ['health', resource.health.error === null ? resource.health.state : `${resource.health.state}: ${resource.health.error}`],
  ]);
}
