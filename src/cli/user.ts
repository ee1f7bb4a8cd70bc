// `sdm user …`: the people and CI jobs that may use the node. Each has one
// API token, shown only when it is created or rotated.

import type { Command } from 'commander';
import type { User } from '../store/types.js';
import type { CliContext } from './context.js';

interface AddOptions {
  admin?: boolean;
  role: string[];
  json?: boolean;
}

export function registerUser(program: Command, context: CliContext): void {
  const user = program.command('user').description('manage users and their API tokens (needs an admin)');

  user
    .command('add')
    .description('add a user and print their API token once')
    .argument('<email>')
    .option('--admin', 'let the user manage the node')
    .option('--role <role>', 'role to assign; repeat for several', collect, [])
    .option('--json', 'print {"user": …, "token": …}')
    .action((email: string, options: AddOptions) => addUser(context, email, options));

  user
    .command('list')
    .description('list users')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => listUsers(context, options));

  user
    .command('delete')
    .description('delete a user; their token stops working at once')
    .argument('<email>')
    .option('--json', 'print JSON')
    .action((email: string, options: { json?: boolean }) => deleteUser(context, email, options));

  user
    .command('rotate-token')
    .description('replace a user\'s API token and print the new one once')
    .argument('<email>')
    .option('--json', 'print {"token": …}')
    .action((email: string, options: { json?: boolean }) => rotateToken(context, email, options));
}

/** Commander argument parser that gathers a repeated option into an array. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function userPath(email: string): string {
  return `/v1/users/${encodeURIComponent(email)}`;
}

async function addUser(context: CliContext, email: string, options: AddOptions): Promise<void> {
  const client = await context.nodeClient();
  const created = await client.post<{ user: User; token: string }>('/v1/users', { email, admin: options.admin === true, roles: options.role });

  if (options.json === true) {
    context.output.json(created);
    return;
  }
  context.output.note(`added user ${created.user.email}${created.user.admin ? ' (admin)' : ''}; their API token follows, shown only this once:`);
  context.output.line(created.token);
}

async function listUsers(context: CliContext, options: { json?: boolean }): Promise<void> {
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

async function deleteUser(context: CliContext, email: string, options: { json?: boolean }): Promise<void> {
  const client = await context.nodeClient();
  const result = await client.delete<{ deleted: true }>(userPath(email));
  if (options.json === true) {
    context.output.json({ email, ...result });
  } else {
    context.output.line(`deleted user ${email}`);
  }
}

async function rotateToken(context: CliContext, email: string, options: { json?: boolean }): Promise<void> {
  const client = await context.nodeClient();
  const { token } = await client.post<{ token: string }>(`${userPath(email)}/rotate-token`);
  if (options.json === true) {
    context.output.json({ token });
    return;
  }
  context.output.note(`rotated the API token of ${email}; the old one no longer works. The new one follows, shown only this once:`);
  context.output.line(token);
}
