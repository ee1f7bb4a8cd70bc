import { mergeResourceUpdate, validateResourceInput } from '../../store/resource-validation.js';
import type { Resource, ResourceHealth } from '../../store/types.js';
import { API_PREFIX, type ResourceView } from '../../tunnel/admin-api.js';
import { ApiError, readJsonBody } from './http-io.js';
import type { AdminDependencies, Route, RouteContext } from './router.js';

const COLLECTION = new RegExp(`^${API_PREFIX}/resources$`);
const ITEM = new RegExp(`^${API_PREFIX}/resources/([^/]+)$`);
const HEALTHCHECK = new RegExp(`^${API_PREFIX}/resources/([^/]+)/healthcheck$`);

export const resourceRoutes: Route[] = [
  { method: 'GET', pattern: COLLECTION, adminOnly: false, handle: listResources },
  { method: 'POST', pattern: COLLECTION, adminOnly: true, handle: addResource },
  { method: 'GET', pattern: ITEM, adminOnly: false, handle: showResource },
  { method: 'PATCH', pattern: ITEM, adminOnly: true, handle: updateResource },
  { method: 'DELETE', pattern: ITEM, adminOnly: true, handle: deleteResource },
  { method: 'POST', pattern: HEALTHCHECK, adminOnly: true, handle: checkResource },
];

async function listResources({ user, deps }: RouteContext): Promise<ResourceView[]> {
  const visible = await deps.access.reachable(user, await deps.store.listResources());
  return Promise.all(visible.map((resource) => withHealth(resource, deps)));
}

async function addResource({ request, deps }: RouteContext): Promise<ResourceView> {
  const input = validateResourceInput(await readJsonBody(request), { configuredSecretStores: deps.secretStores });
  const resource = await deps.store.addResource(input);
  deps.health.watch(resource);
  deps.logger.info({ resource: resource.name }, 'resource added');
  return withHealth(resource, deps);
}

async function showResource({ user, params, deps }: RouteContext): Promise<ResourceView> {
  const resource = await findVisible(params[0], user, deps);
  return withHealth(resource, deps);
}

async function updateResource({ request, params, deps }: RouteContext): Promise<ResourceView> {
  const existing = await deps.store.getResource(params[0]);
  if (!existing) {
    throw notFound(params[0]);
  }
  const input = mergeResourceUpdate(existing, await readJsonBody(request), { configuredSecretStores: deps.secretStores });
  const resource = await deps.store.updateResource(existing.name, input);
  if (resource.name !== existing.name) {
    deps.health.unwatch(existing.name);
  }
  deps.health.watch(resource);
  await deps.enforceAccess();
  deps.logger.info({ resource: resource.name }, 'resource updated');
  return withHealth(resource, deps);
}

async function deleteResource({ params, deps }: RouteContext): Promise<{ deleted: true }> {
  if (!(await deps.store.deleteResource(params[0]))) {
    throw notFound(params[0]);
  }
  deps.health.unwatch(params[0]);
  await deps.enforceAccess();
  deps.logger.info({ resource: params[0] }, 'resource deleted');
  return { deleted: true };
}

async function checkResource({ params, deps }: RouteContext): Promise<ResourceHealth> {
  const resource = await deps.store.getResource(params[0]);
  if (!resource) {
    throw notFound(params[0]);
  }
  return deps.health.checkNow(resource);
}

async function findVisible(name: string, user: RouteContext['user'], deps: AdminDependencies): Promise<Resource> {
  const resource = await deps.store.getResource(name);
  if (!resource || !(await deps.access.mayReach(user, resource))) {
    throw notFound(name);
  }
  return resource;
}

async function withHealth(resource: Resource, deps: AdminDependencies): Promise<ResourceView> {
  const health = (await deps.store.getHealth(resource.name)) ?? {
    resource: resource.name,
    state: 'unhealthy',
    checkedAt: null,
    durationMs: null,
    error: 'not checked yet',
  };
  return { ...resource, health };
}

function notFound(name: string): ApiError {
  return new ApiError(404, 'not_found', `resource "${name}" not found`);
}
