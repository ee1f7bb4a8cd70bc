import type http from 'node:http';

import { SdmError, ValidationError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Store, User } from '../../store/types.js';
import { API_PREFIX } from '../../tunnel/admin-api.js';
import type { AccessControl } from '../access.js';
import type { HealthChecker } from '../health-checker.js';
import { ApiError, bearerToken, sendError, sendJsonInSlices } from './http-io.js';
import { logRoutes } from './log-routes.js';
import { resourceRoutes } from './resource-routes.js';
import { roleRoutes, userRoutes } from './user-routes.js';

export interface AdminDependencies {
  store: Store;
  access: AccessControl;
  health: HealthChecker;
  /** Secret stores this node is configured with, besides the built-in one. */
  secretStores: string[];
  /** Re-checks every open session's access after a change to users, roles or resources. */
  enforceAccess(): Promise<void>;
  logger: Logger;
}

export interface RouteContext {
  request: http.IncomingMessage;
  user: User;
  params: string[];
  query: URLSearchParams;
  deps: AdminDependencies;
}

export interface Route {
  method: string;
  pattern: RegExp;
  adminOnly: boolean;
  handle(context: RouteContext): Promise<unknown>;
}

const ROUTES: Route[] = [...resourceRoutes, ...userRoutes, ...roleRoutes, ...logRoutes];

/** Builds the request handler of the admin API. */
export function createAdminHandler(deps: AdminDependencies): http.RequestListener {
  return (request, response) => {
    handle(request, deps)
      .then(({ status, body }) => sendJsonInSlices(response, status, body))
      .catch((error: unknown) => {
        const apiError = toApiError(error);
        if (apiError.status >= 500) {
          deps.logger.error({ err: (error as Error).message, method: request.method, path: pathOf(request) }, 'admin request failed');
        }
        sendError(response, apiError);
      });
  };
}

async function handle(request: http.IncomingMessage, deps: AdminDependencies): Promise<{ status: number; body: unknown }> {
  const url = new URL(request.url ?? '/', 'https://node.invalid');
  const token = bearerToken(request);
  if (!token) {
    throw new ApiError(401, 'unauthenticated', 'missing API token: send Authorization: Bearer TOKEN');
  }
  const user = await deps.access.userForToken(token);
  if (!user) {
    throw new ApiError(401, 'unauthenticated', 'API token not accepted: it is wrong, rotated or revoked');
  }

  if (url.pathname === `${API_PREFIX}/whoami` && request.method === 'GET') {
    return { status: 200, body: { email: user.email, admin: user.admin } };
  }

  const { route, params } = findRoute(request.method ?? 'GET', url.pathname);
  if (route.adminOnly && !user.admin) {
    throw new ApiError(403, 'forbidden', `${request.method} ${url.pathname} needs an admin; ${user.email} is not one`);
  }
  const body = await route.handle({ request, user, params, query: url.searchParams, deps });
  return { status: request.method === 'POST' && body !== undefined ? 201 : 200, body };
}

function findRoute(method: string, path: string): { route: Route; params: string[] } {
  let pathMatched = false;
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) {
      continue;
    }
    pathMatched = true;
    if (route.method === method) {
      return { route, params: match.slice(1).map((part) => decodePathPart(part)) };
    }
  }
  if (pathMatched) {
    throw new ApiError(405, 'bad_request', `method ${method} is not allowed on ${path}`);
  }
  throw new ApiError(404, 'not_found', `no admin API route ${method} ${path}`);
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) {
    return error;
  }
  if (error instanceof ValidationError) {
    return new ApiError(400, 'invalid_value', error.message, error.field);
  }
  if (error instanceof SdmError && error.code === 'conflict') {
    return new ApiError(409, 'conflict', error.message);
  }
  if (error instanceof SdmError && error.code === 'not_found') {
    return new ApiError(404, 'not_found', error.message);
  }
  return new ApiError(500, 'internal', `internal error: ${(error as Error).message}`);
}

function pathOf(request: http.IncomingMessage): string {
  return (request.url ?? '').split('?')[0];
}

function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ApiError(400, 'bad_request', `invalid percent-encoding in path segment "${part}"`);
  }
}
