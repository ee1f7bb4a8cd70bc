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
  await prepareEmptyDirectory(paths.root);

  const { generateSelfSignedCertificate } = await import('../tunnel/certificates.js');
  const { fingerprintOf } = await import('../tunnel/fingerprint.js');
  const altNames = [...new Set([host, '127.0.0.1', 'localhost'].filter((name) => name !== '0.0.0.0' && name !== '::'))];
  const certificate = await generateSelfSignedCertificate({ commonName: 'sdm node', altNames });
  // Exclusive creation: of two inits racing on one directory, the second stops here and leaves the first one's key alone.
  await writeNewFile(paths.privateKey, certificate.keyPem, 0o600, paths.root);
  await writeNewFile(paths.certificate, certificate.certPem, 0o644, paths.root);

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

/** Creates the directory with mode 0700, or accepts an existing empty one. */
async function prepareEmptyDirectory(root: string): Promise<void> {
  try {
    await fs.mkdir(root, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EEXIST' || code === 'ENOTDIR' ? 'a file of that name exists and is not a directory' : (code ?? (error as Error).message);
    throw new SdmError('invalid_data_dir', `cannot create the data directory ${root}: ${reason}`, {
      exitCode: ExitCode.USAGE,
      hint: 'choose a --data-dir path where a new directory can be created',
    });
  }

  const entries = await fs.readdir(root);
  if (entries.length > 0) {
    throw new SdmError('data_dir_not_empty', `${root} is not empty but contains no node.json (files: ${entries.slice(0, 5).join(', ')})`, {
      exitCode: ExitCode.CONFLICT,
      hint: 'an earlier init may have been interrupted: restore its node.json, or choose an empty --data-dir',
    });
  }
  await fs.chmod(root, 0o700);
}

async function writeNewFile(file: string, text: string, mode: number, root: string): Promise<void> {
  try {
    await fs.writeFile(file, text, { mode, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SdmError('already_initialized', `${root} is being initialised by another sdm gateway init`, {
        exitCode: ExitCode.CONFLICT,
        hint: 'let the other init finish, then start the node with `sdm gateway start`',
      });
    }
    throw error;
  }
}
