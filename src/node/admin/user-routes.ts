import { ValidationError } from '../../errors.js';
import { validateEmail, validateRoleName } from '../../store/account-validation.js';
import { parseTag } from '../../store/tags.js';
import type { Role, User } from '../../store/types.js';
import { API_PREFIX } from '../../tunnel/admin-api.js';
import { generateApiToken, hashApiToken } from '../api-tokens.js';
import { ApiError, readJsonBody, requireString } from './http-io.js';
import type { Route, RouteContext } from './router.js';


export const userRoutes: Route[] = [
  { method: 'GET', pattern: new RegExp(`^${API_PREFIX}/users$`), adminOnly: true, handle: listUsers },
  { method: 'POST', pattern: new RegExp(`^${API_PREFIX}/users$`), adminOnly: true, handle: addUser },
  { method: 'DELETE', pattern: new RegExp(`^${API_PREFIX}/users/([^/]+)$`), adminOnly: true, handle: deleteUser },
  { method: 'POST', pattern: new RegExp(`^${API_PREFIX}/users/([^/]+)/rotate-token$`), adminOnly: true, handle: rotateToken },
];

export const roleRoutes: Route[] = [
  { method: 'GET', pattern: new RegExp(`^${API_PREFIX}/roles$`), adminOnly: true, handle: ({ deps }) => deps.store.listRoles() },
  { method: 'POST', pattern: new RegExp(`^${API_PREFIX}/roles$`), adminOnly: true, handle: addRole },
  { method: 'DELETE', pattern: new RegExp(`^${API_PREFIX}/roles/([^/]+)$`), adminOnly: true, handle: deleteRole },
  { method: 'POST', pattern: new RegExp(`^${API_PREFIX}/roles/([^/]+)/grants$`), adminOnly: true, handle: grant },
  { method: 'DELETE', pattern: new RegExp(`^${API_PREFIX}/roles/([^/]+)/grants$`), adminOnly: true, handle: revoke },
  { method: 'POST', pattern: new RegExp(`^${API_PREFIX}/roles/([^/]+)/members$`), adminOnly: true, handle: assign },
  { method: 'DELETE', pattern: new RegExp(`^${API_PREFIX}/roles/([^/]+)/members/([^/]+)$`), adminOnly: true, handle: unassign },
];

async function listUsers({ deps }: RouteContext): Promise<User[]> {
  return deps.store.listUsers();
}

async function addUser({ request, deps }: RouteContext): Promise<{ user: User; token: string }> {
  const body = (await readJsonBody(request)) as Record<string, unknown>;
  const email = validateEmail(body.email);
  const admin = optionalBoolean(body.admin, 'admin');
  const roles = optionalStringList(body.roles, 'roles');
  for (const role of roles) {
    await requireRole(role, deps);
  }

  const token = generateApiToken();
  await deps.store.addUser(email, admin, hashApiToken(token));
  for (const role of roles) {
    await deps.store.assignRole(role, email);
  }
  deps.logger.info({ user: email, admin, roles }, 'user added');
  return { user: (await deps.store.getUser(email))!, token };
}

async function deleteUser({ user, params, deps }: RouteContext): Promise<{ deleted: true }> {
  if (params[0] === user.email) {
    throw new ApiError(400, 'invalid_value', `you cannot delete your own user ${user.email}; ask another admin`, 'email');
  }
  if (!(await deps.store.deleteUser(params[0]))) {
    throw new ApiError(404, 'not_found', `user "${params[0]}" not found`);
  }
  await deps.enforceAccess();
  deps.logger.info({ user: params[0] }, 'user deleted');
  return { deleted: true };
}

async function rotateToken({ params, deps }: RouteContext): Promise<{ token: string }> {
  const token = generateApiToken();
  if (!(await deps.store.setUserTokenHash(params[0], hashApiToken(token)))) {
    throw new ApiError(404, 'not_found', `user "${params[0]}" not found`);
  }
  deps.logger.info({ user: params[0] }, 'API token rotated');
  return { token };
}

async function addRole({ request, deps }: RouteContext): Promise<Role> {
  const name = validateRoleName((await readJsonBody(request) as Record<string, unknown>).name, 'name');
  const role = await deps.store.addRole(name);
  deps.logger.info({ role: name }, 'role added');
  return role;
}

async function deleteRole({ params, deps }: RouteContext): Promise<{ deleted: true }> {
  if (!(await deps.store.deleteRole(params[0]))) {
    throw roleNotFound(params[0]);
  }
  await deps.enforceAccess();
  deps.logger.info({ role: params[0] }, 'role deleted');
  return { deleted: true };
}

async function grant({ request, params, deps }: RouteContext): Promise<Role> {
  await requireRole(params[0], deps);
  const target = await grantTarget(await readJsonBody(request), deps, true);
  await deps.store.grant(params[0], target);
  deps.logger.info({ role: params[0], ...target }, 'access granted');
  return requireRole(params[0], deps);
}

async function revoke({ request, params, deps }: RouteContext): Promise<Role> {
  await requireRole(params[0], deps);
  const target = await grantTarget(await readJsonBody(request), deps, false);
  if (!(await deps.store.revoke(params[0], target))) {
    throw new ApiError(404, 'not_found', `role "${params[0]}" has no grant ${describeGrant(target)}; run \`sdm role list\``);
  }
  await deps.enforceAccess();
  deps.logger.info({ role: params[0], ...target }, 'access revoked');
  return requireRole(params[0], deps);
}

async function assign({ request, params, deps }: RouteContext): Promise<Role> {
  await requireRole(params[0], deps);
  const email = requireString(await readJsonBody(request), 'email');
  if (!(await deps.store.getUser(email))) {
    throw new ApiError(404, 'not_found', `user "${email}" not found; add it first with \`sdm user add ${email}\``);
  }
  await deps.store.assignRole(params[0], email);
  deps.logger.info({ role: params[0], user: email }, 'role assigned');
  return requireRole(params[0], deps);
}

async function unassign({ params, deps }: RouteContext): Promise<Role> {
  await requireRole(params[0], deps);
  if (!(await deps.store.unassignRole(params[0], params[1]))) {
    throw new ApiError(404, 'not_found', `user "${params[1]}" is not a member of role "${params[0]}"`);
  }
  await deps.enforceAccess();
  deps.logger.info({ role: params[0], user: params[1] }, 'role unassigned');
  return requireRole(params[0], deps);
}

async function grantTarget(body: unknown, deps: RouteContext['deps'], mustExist: boolean): Promise<{ resource?: string; tag?: string }> {
  const fields = body as Record<string, unknown>;
  const hasResource = typeof fields.resource === 'string' && fields.resource.length > 0;
  const hasTag = typeof fields.tag === 'string' && fields.tag.length > 0;
  if (hasResource === hasTag) {
    throw new ValidationError('resource', 'expected exactly one of resource or tag (key=value)');
  }
  if (hasTag) {
    const { key, value } = parseTag(fields.tag);
    return { tag: `${key}=${value}` };
  }
  const resource = fields.resource as string;
  if (mustExist && !(await deps.store.getResource(resource))) {
    throw new ApiError(404, 'not_found', `resource "${resource}" not found`);
  }
  return { resource };
}

async function requireRole(name: string, deps: RouteContext['deps']): Promise<Role> {
  const role = (await deps.store.listRoles()).find((candidate) => candidate.name === name);
  if (!role) {
    throw roleNotFound(name);
  }
  return role;
}

function roleNotFound(name: string): ApiError {
  return new ApiError(404, 'not_found', `role "${name}" not found`);
}

function describeGrant(target: { resource?: string; tag?: string }): string {
  return target.resource !== undefined ? `on resource "${target.resource}"` : `on tag ${target.tag}`;
}

function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined) {
    return false;
  }
  if (typeof value !== 'boolean') {
    throw new ValidationError(field, `invalid ${field} ${JSON.stringify(value)}: expected true or false`);
  }
  return value;
}

function optionalStringList(value: unknown, field: string): string[] {
  if (value === undefined) {
    return [];
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new ValidationError(field, `invalid ${field} ${JSON.stringify(value)}: expected a list of role names`);
  }
  return value;
}
