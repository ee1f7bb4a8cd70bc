import fs from 'node:fs/promises';

import { SdmError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { generateApiToken, hashApiToken } from './api-tokens.js';
import { dataDirPaths, DEFAULT_CONFIG, DEFAULT_LISTEN, isInitialised, parseListen, type NodeConfig } from './data-dir.js';

export const DEFAULT_ADMIN_EMAIL = 'admin@localhost';

export interface InitOptions {
  dataDir: string;
  listen?: string;
  adminEmail?: string;
}

export interface InitResult {
  /** Shown once; the node keeps only its hash. */
  adminToken: string;
  fingerprint: string;
  listen: string;
}

/**
 * Creates a node's data directory (mode 0700): an ECDSA key and self-signed
 * certificate, the store, the first admin user and `node.json`, written last
 * so that a directory with `node.json` is always complete. Refuses to touch a
 * directory that is already initialised.
 */
export async function initGateway(options: InitOptions): Promise<InitResult> {
  const paths = dataDirPaths(options.dataDir);
  const listen = options.listen ?? DEFAULT_LISTEN;
  const { host } = parseListen(listen);

  if (await isInitialised(paths)) {
    throw new SdmError('already_initialized', `${paths.root} already contains an initialised node`, {
      exitCode: ExitCode.CONFLICT,
      hint: 'start it with `sdm gateway start`, or choose an empty --data-dir',
    });
  }
  await fs.mkdir(paths.root, { recursive: true, mode: 0o700 });
  await fs.chmod(paths.root, 0o700);

  const { generateSelfSignedCertificate } = await import('../tunnel/certificates.js');
  const { fingerprintOf } = await import('../tunnel/fingerprint.js');
  const altNames = [...new Set([host, '127.0.0.1', 'localhost'].filter((name) => name !== '0.0.0.0' && name !== '::'))];
  const certificate = await generateSelfSignedCertificate({ commonName: 'sdm node', altNames });
  await fs.writeFile(paths.privateKey, certificate.keyPem, { mode: 0o600 });
  await fs.writeFile(paths.certificate, certificate.certPem, { mode: 0o644 });

  const adminToken = generateApiToken();
  const store = await openSqliteStore(paths.store);
  try {
    await store.addUser(options.adminEmail ?? DEFAULT_ADMIN_EMAIL, true, hashApiToken(adminToken));
  } finally {
    await store.close();
  }

  const config: NodeConfig = { listen, ...DEFAULT_CONFIG };
  await fs.writeFile(paths.config, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return { adminToken, fingerprint: fingerprintOf(certificate.certPem), listen };
}
