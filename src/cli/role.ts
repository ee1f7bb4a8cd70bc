// `sdm role …`: roles grant resources, by name or by tag, to their members.

import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { Role } from '../store/types.js';
import type { CliContext } from './context.js';

export interface GrantOptions {
  resource?: string;
  tags?: string;
}

function rolePath(name: string): string {
  return `/v1/roles/${encodeURIComponent(name)}`;
}

export async function addRole(context: CliContext, name: string, options: { json?: boolean }): Promise<void> {
  const client = await context.nodeClient();
  const role = await client.post<Role>('/v1/roles', { name });
  if (options.json === true) {
    context.output.json(role);
  } else {
    context.output.line(`added role ${role.name}`);
  }
}

export async function deleteRole(context: CliContext, name: string): Promise<void> {
  const client = await context.nodeClient();
  await client.delete(rolePath(name));
  context.output.line(`deleted role ${name}`);
}

/** Sends one grant or revoke per resource or tag; the API takes one at a time. */
export async function changeGrants(context: CliContext, verb: 'grant' | 'revoke', name: string, options: GrantOptions): Promise<void> {
  const grants = grantBodies(options);
  const client = await context.nodeClient();

  for (const grant of grants) {
    if (verb === 'grant') {
      await client.post<Role>(`${rolePath(name)}/grants`, grant);
    } else {
      await client.delete<Role>(`${rolePath(name)}/grants`, grant);
    }
    const target = grant.resource !== undefined ? `resource ${grant.resource}` : `tag ${grant.tag}`;
    context.output.line(verb === 'grant' ? `granted ${target} to role ${name}` : `revoked ${target} from role ${name}`);
  }
}

function grantBodies(options: GrantOptions): Array<{ resource?: string; tag?: string }> {
  if ((options.resource === undefined) === (options.tags === undefined)) {
    throw new SdmError('usage', 'give either --resource NAME or --tags k=v', { exitCode: ExitCode.USAGE });
  }
  if (options.resource !== undefined) {
    return [{ resource: options.resource }];
  }
  return options
    .tags!.split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '')
    .map((tag) => ({ tag }));
}

export async function assign(context: CliContext, name: string, email: string): Promise<void> {
  const client = await context.nodeClient();
  await client.post<Role>(`${rolePath(name)}/members`, { email });
  context.output.line(`assigned role ${name} to ${email}`);
}

export async function unassign(context: CliContext, name: string, email: string): Promise<void> {
  const client = await context.nodeClient();
  await client.delete<Role>(`${rolePath(name)}/members/${encodeURIComponent(email)}`);
  context.output.line(`removed ${email} from role ${name}`);
}

export async function listRoles(context: CliContext, options: { json?: boolean }): Promise<void> {
  const client = await context.nodeClient();
  const roles = await client.get<Role[]>('/v1/roles');
  if (options.json === true) {
    context.output.json(roles);
    return;
  }
  await context.output.table(
    ['NAME', 'RESOURCES', 'TAGS', 'MEMBERS'],
    roles.map((role) => [role.name, role.resources.join(',') || '-', role.tags.join(',') || '-', role.members.join(',') || '-']),
  );
}
