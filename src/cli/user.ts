// `sdm user …`: the people and CI jobs that may use the node. Each has one
// API token, shown only when it is created or rotated.

import type { User } from '../store/types.js';
import type { CliContext } from './context.js';

export interface AddUserOptions {
  admin?: boolean;
  role: string[];
  json?: boolean;
}

function userPath(email: string): string {
  return `/v1/users/${encodeURIComponent(email)}`;
}

export async function addUser(context: CliContext, email: string, options: AddUserOptions): Promise<void> {
  const client = await context.nodeClient();
  const created = await client.post<{ user: User; token: string }>('/v1/users', { email, admin: options.admin === true, roles: options.role });

  if (options.json === true) {
    context.output.json(created);
    return;
  }
  context.output.note(`added user ${created.user.email}${created.user.admin ? ' (admin)' : ''}; their API token follows, shown only this once:`);
  context.output.line(created.token);
}

export async function listUsers(context: CliContext, options: { json?: boolean }): Promise<void> {
  const client = await context.nodeClient();
  const users = await client.get<User[]>('/v1/users');
  if (options.json === true) {
    context.output.json(users);
    return;
  }
  await context.output.table(
    ['EMAIL', 'ADMIN', 'ROLES', 'CREATED'],
    users.map((user) => [user.email, user.admin ? 'yes' : 'no', user.roles.join(',') || '-', user.createdAt]),
  );
}

export async function deleteUser(context: CliContext, email: string, options: { json?: boolean }): Promise<void> {
  const client = await context.nodeClient();
  const result = await client.delete<{ deleted: true }>(userPath(email));
  if (options.json === true) {
    context.output.json({ email, ...result });
  } else {
    context.output.line(`deleted user ${email}`);
  }
}

export async function rotateToken(context: CliContext, email: string, options: { json?: boolean }): Promise<void> {
  const client = await context.nodeClient();
  const { token } = await client.post<{ token: string }>(`${userPath(email)}/rotate-token`);
  if (options.json === true) {
    context.output.json({ token });
    return;
  }
  context.output.note(`rotated the API token of ${email}; the old one no longer works. The new one follows, shown only this once:`);
  context.output.line(token);
}
