// The request rules of the Azure Instance Metadata Service (IMDS) token
// endpoint, as pure functions: a request goes in, and either an error
// response or the identity to issue a token for comes out. Error bodies use
// IMDS's JSON shape `{"error": ..., "error_description": ...}`. The texts for
// a missing Metadata header, an unknown identity and several identities are
// the ones IMDS sends, as quoted in Microsoft's managed-identity
// documentation and in error reports and tests of Azure SDK users.
// NOTE: the texts for a missing query parameter, a wrong method and an
// unknown path are the emulator's own, because IMDS's wording for those is
// not documented.

/** Path of the IMDS managed-identity token endpoint. */
export const IMDS_TOKEN_PATH = '/metadata/identity/oauth2/token';

const REQUIRED_PARAMETERS = ['api-version', 'resource'];

/** Query parameters that select a user-assigned identity. */
const CLIENT_ID_PARAMETER = 'client_id';
const OTHER_IDENTITY_PARAMETERS = ['object_id', 'msi_res_id'];

export interface ImdsRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Value of the `Metadata` header, or undefined when it is absent. */
  metadataHeader: string | undefined;
}

export interface ImdsErrorResponse {
  kind: 'error';
  status: number;
  body: { error: string; error_description: string };
}

export interface ImdsIssue {
  kind: 'issue';
  /** The client ID as the emulator registered it. */
  clientId: string;
  resource: string;
}

export type ImdsOutcome = ImdsErrorResponse | ImdsIssue;

/**
 * Decides the outcome of a request that passed `checkEnvelope`, from its
 * query alone. `identities` maps each registered client ID in lower case to
 * its registered spelling.
 */
export function resolveTokenQuery(query: URLSearchParams, identities: ReadonlyMap<string, string>): ImdsOutcome {
  for (const name of REQUIRED_PARAMETERS) {
    if (!query.get(name)) {
      return invalidRequest(`Required query parameter '${name}' is missing`);
    }
  }

  return selectIdentity(query, identities);
}

/** Checks the path, the method and the Metadata header of a request. */
export function checkEnvelope(request: ImdsRequest): ImdsErrorResponse | undefined {
  if (!isTokenPath(request.path)) {
    return errorResponse(404, 'not_found', `No IMDS endpoint at path '${request.path}'; the token endpoint is ${IMDS_TOKEN_PATH}`);
  }

  if (request.method !== 'GET') {
    return errorResponse(405, 'invalid_request', `Method ${request.method} is not allowed; the token endpoint accepts GET only`);
  }

  if (request.metadataHeader !== 'true') {
    return invalidRequest('Required metadata header not specified');
  }
  return undefined;
}

/** Accepts the token path with or without one trailing slash, which @azure/identity always sends. */
export function isTokenPath(path: string): boolean {
  return path === IMDS_TOKEN_PATH || path === `${IMDS_TOKEN_PATH}/`;
}

/** Builds the error response that IMDS sends when it has no identity for a request. */
function identityNotFound(): ImdsErrorResponse {
  return invalidRequest('Identity not found');
}

function selectIdentity(query: URLSearchParams, identities: ReadonlyMap<string, string>): ImdsOutcome {
  const resource = query.get('resource') ?? '';
  const clientId = query.get(CLIENT_ID_PARAMETER);
  const otherIds = OTHER_IDENTITY_PARAMETERS.filter((name) => query.has(name));

  if (otherIds.length > 0) {
    // The emulator registers identities by client ID only, so an object ID
    // or a resource ID never matches one.
    return identityNotFound();
  }

  if (clientId !== null) {
    const registered = identities.get(clientId.toLowerCase());
    return registered ? { kind: 'issue', clientId: registered, resource } : identityNotFound();
  }
  return selectDefaultIdentity(identities, resource);
}

/**
 * Picks the identity for a request that names none. IMDS uses the only
 * user-assigned identity of a VM without a system-assigned one, and
 * rejects the request when there are several.
 */
function selectDefaultIdentity(identities: ReadonlyMap<string, string>, resource: string): ImdsOutcome {
  const registered = [...identities.values()];
  if (registered.length === 1) {
    return { kind: 'issue', clientId: registered[0], resource };
  }

  if (registered.length === 0) {
    return identityNotFound();
  }
  return invalidRequest('Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request');
}

function invalidRequest(description: string): ImdsErrorResponse {
  return errorResponse(400, 'invalid_request', description);
}

function errorResponse(status: number, error: string, description: string): ImdsErrorResponse {
  return { kind: 'error', status, body: { error, error_description: description } };
}
