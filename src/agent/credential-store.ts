// Storage of the API token on the user's machine. The OS keyring comes
// first (service "sdm", account HOST:PORT of the node). When no keyring
// service works, the token goes to SDM_HOME/credentials with mode 0600 and
// a warning is printed once: when the file is created. SDM_TOKEN overrides both,
// for CI jobs that hold the token in their own secret store.

import { access } from 'node:fs/promises';

import { checkEnvironmentToken } from './api-token.js';
import { ensureHome, PRIVATE_FILE_MODE, type SdmPaths } from './home.js';
import { readJsonFile, writeJsonFile } from './json-file.js';
import { formatHostPort, type HostPort } from './address.js';

/** Keyring service name under which every sdm token is stored. */
export const KEYRING_SERVICE = 'sdm';

/** The part of `@napi-rs/keyring`'s Entry the store uses; every method may throw. */
export interface KeyringEntry {
  getPassword(): string | null;
  setPassword(password: string): void;
  deletePassword(): boolean;
}

export type KeyringOpener = (service: string, account: string) => Promise<KeyringEntry>;

export type TokenLocation = 'environment' | 'keyring' | 'file';

export interface CredentialStoreOptions {
  paths: SdmPaths;
  env: Record<string, string | undefined>;
  /** Opens a keyring entry; null disables the keyring. Defaults to `@napi-rs/keyring`. */
  keyring?: KeyringOpener | null;
  /** Receives the one-line notice printed when the token falls back to the file. */
  warn(message: string): void;
}

/** Opens an entry of the OS keyring, loading the native module only when first needed. */
export async function openSystemKeyring(service: string, account: string): Promise<KeyringEntry> {
  const { Entry } = await import('@napi-rs/keyring');
  return new Entry(service, account);
}

/** Errors of @napi-rs/keyring that mean no keyring service is reachable at all. */
const NO_KEYRING_PATTERN = /platform storage|AccessDenied|no result found|not available/i;

export class CredentialStore {
  private readonly options: CredentialStoreOptions;
  private readonly keyring: KeyringOpener | null;

  constructor(options: CredentialStoreOptions) {
    this.options = options;
    const disabled = options.env.SDM_KEYRING === 'off';
    if (disabled) {
      this.keyring = null;
    } else {
      this.keyring = options.keyring === undefined ? openSystemKeyring : options.keyring;
    }
  }

  /**
   * Returns the token for `gateway` and where it came from, or undefined
   * when none is stored. Throws `invalid_token` when SDM_TOKEN contains
   * whitespace or a control character.
   */
  async getToken(gateway: HostPort): Promise<{ token: string; location: TokenLocation } | undefined> {
    const fromEnv = this.options.env.SDM_TOKEN;
    if (fromEnv !== undefined && fromEnv.length > 0) {
      checkEnvironmentToken(fromEnv);
      return { token: fromEnv, location: 'environment' };
    }

    const account = formatHostPort(gateway);
    const fromKeyring = await this.readKeyring(account);
    if (fromKeyring !== undefined) {
      return { token: fromKeyring, location: 'keyring' };
    }

    const file = await this.readFile();
    const fromFile = file[account];
    return fromFile === undefined ? undefined : { token: fromFile, location: 'file' };
  }

  /** Stores the token in the keyring, or in the 0600 file when the keyring fails. */
  async saveToken(gateway: HostPort, token: string): Promise<TokenLocation> {
    const account = formatHostPort(gateway);
    const keyringError = await this.writeKeyring(account, token);

    if (keyringError === undefined) {
      await this.removeFromFile(account);
      return 'keyring';
    }

    const fileExisted = await access(this.options.paths.credentials).then(
      () => true,
      () => false,
    );
    const file = await this.readFile();
    file[account] = token;
    await this.writeFile(file);
    if (!fileExisted) {
      this.options.warn(
        `no OS keyring is available (${keyringError}); stored the API token in ${this.options.paths.credentials} (mode 0600) instead, as sdm will from now on`,
      );
    }
    return 'file';
  }

  /** Removes the token for `gateway` from the keyring and from the file. */
  async forgetToken(gateway: HostPort): Promise<void> {
    const account = formatHostPort(gateway);
    if (this.keyring !== null) {
      try {
        const entry = await this.keyring(KEYRING_SERVICE, account);
        entry.deletePassword();
      } catch (error) {
        // A keyring that cannot be reached has nothing to forget; one that
        // responds but rejects the call (a locked keyring) may still hold the token.
        const message = (error as Error).message;
        if (!NO_KEYRING_PATTERN.test(message)) {
          this.options.warn(`could not remove the API token from the OS keyring: ${message}; unlock the keyring and run sdm logout again`);
        }
      }
    }
    await this.removeFromFile(account);
  }

  private async readKeyring(account: string): Promise<string | undefined> {
    if (this.keyring === null) {
      return undefined;
    }
    try {
      const entry = await this.keyring(KEYRING_SERVICE, account);
      return entry.getPassword() ?? undefined;
    } catch {
      return undefined;
    }
  }

  /** Returns undefined on success, else the reason the keyring failed. */
  private async writeKeyring(account: string, token: string): Promise<string | undefined> {
    if (this.keyring === null) {
      return 'SDM_KEYRING=off';
    }
    try {
      const entry = await this.keyring(KEYRING_SERVICE, account);
      entry.setPassword(token);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  private async readFile(): Promise<Record<string, string>> {
    const value = await readJsonFile(this.options.paths.credentials);
    if (typeof value !== 'object' || value === null) {
      return {};
    }
    const tokens: Record<string, string> = {};
    for (const [account, token] of Object.entries(value)) {
      if (typeof token === 'string') {
        tokens[account] = token;
      }
    }
    return tokens;
  }

  private async writeFile(tokens: Record<string, string>): Promise<void> {
    await ensureHome(this.options.paths.home);
    await writeJsonFile(this.options.paths.credentials, tokens, PRIVATE_FILE_MODE);
  }

  private async removeFromFile(account: string): Promise<void> {
    const file = await this.readFile();
    if (file[account] === undefined) {
      return;
    }
    delete file[account];
    await this.writeFile(file);
  }
}
