// The node's HTTPS admin API, shared by the node (which serves it) and the
// CLI (which calls it). Every request carries `Authorization: Bearer TOKEN`.
// Bodies are JSON. An error response has a non-2xx status and ApiErrorBody.
//
//   GET    /v1/whoami                        -> WhoAmI
//   GET    /v1/resources                     -> ResourceView[] (only what the caller may reach)
//   POST   /v1/resources                     ResourceInput -> ResourceView            (admin)
//   GET    /v1/resources/:name               -> ResourceView
//   PATCH  /v1/resources/:name               Partial<ResourceInput> -> ResourceView   (admin)
//   DELETE /v1/resources/:name               -> { deleted: true }                     (admin)
//   POST   /v1/resources/:name/healthcheck   -> ResourceHealth                        (admin)
//   GET    /v1/users                         -> User[]                                (admin)
//   POST   /v1/users                         { email, admin, roles } -> { user, token } (admin)
//   DELETE /v1/users/:email                  -> { deleted: true }                     (admin)
//   POST   /v1/users/:email/rotate-token     -> { token }                             (admin)
//   GET    /v1/roles                         -> Role[]                                (admin)
//   POST   /v1/roles                         { name } -> Role                         (admin)
//   DELETE /v1/roles/:name                   -> { deleted: true }                     (admin)
//   POST   /v1/roles/:name/grants            { resource? , tag? } -> Role             (admin)
//   DELETE /v1/roles/:name/grants            { resource? , tag? } -> Role             (admin)
//   POST   /v1/roles/:name/members           { email } -> Role                        (admin)
//   DELETE /v1/roles/:name/members/:email    -> Role                                  (admin)
//   GET    /v1/logs/connections?since&until&resource&user&after&limit -> ConnectionRecord[] (admin)
//   GET    /v1/logs/queries?since&until&resource&user&after&limit     -> QueryRecord[]      (admin)

import type { Resource, ResourceHealth } from '../store/types.js';

export const API_PREFIX = '/v1';

/** Largest request body the admin API reads. */
export const MAX_API_BODY_BYTES = 1024 * 1024;

export interface WhoAmI {
  email: string;
  admin: boolean;
}

export interface ResourceView extends Resource {
  health: ResourceHealth;
}

export type ApiErrorCode =
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'invalid_value'
  | 'conflict'
  | 'bad_request'
  | 'payload_too_large'
  | 'internal';

export interface ApiErrorBody {
  error: {
    code: ApiErrorCode;
    message: string;
    /** The input field at fault, for `invalid_value`. */
    field?: string;
  };
}
