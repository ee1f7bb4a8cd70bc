import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { TokenCache } from '../identity/token-cache.js';
import { ManagedIdentityTokenSource } from '../identity/managed-identity-source.js';
import type { Logger } from '../log.js';
import { isLoopbackAddress, loopbackOnly, LOOPBACK_ONLY_ENV } from './loopback-policy.js';

/** Environment variables through which @azure/identity finds a managed-identity endpoint. */
const IDENTITY_ENDPOINT_VARIABLES = ['AZURE_POD_IDENTITY_AUTHORITY_HOST', 'IDENTITY_ENDPOINT', 'MSI_ENDPOINT'];

/**
 * Builds the node's token source: the managed identity through
 * @azure/identity, behind a cache. In loopback-only mode the endpoint must be
 * set and on loopback, so the SDK can never fall back to the instance
 * metadata address.
 */
export async function createTokenSource(logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<TokenCache> {
  if (loopbackOnly(env)) {
    assertLoopbackEndpoint(env);
  }
  return new TokenCache(new ManagedIdentityTokenSource(), {
    onRenewError: (clientId, error) => logger.warn({ clientId, err: error.message }, 'token renewal failed; will retry'),
  });
}

function assertLoopbackEndpoint(env: NodeJS.ProcessEnv): void {
  const configured = IDENTITY_ENDPOINT_VARIABLES.filter((name) => env[name]);
  if (configured.length === 0) {
    throw new SdmError('identity_endpoint_missing', `${LOOPBACK_ONLY_ENV}=1 needs AZURE_POD_IDENTITY_AUTHORITY_HOST set to a loopback URL`, {
      exitCode: ExitCode.USAGE,
      hint: 'point it at the emulator, for example http://127.0.0.1:PORT',
    });
  }
  for (const name of configured) {
    const host = new URL(env[name]!).hostname.replace(/^\[|\]$/g, '');
    if (!isLoopbackAddress(host) && host !== 'localhost') {
      throw new SdmError('identity_endpoint_not_loopback', `${name} points at ${host}, and ${LOOPBACK_ONLY_ENV}=1 allows loopback only`, {
        exitCode: ExitCode.USAGE,
      });
    }
  }
}
