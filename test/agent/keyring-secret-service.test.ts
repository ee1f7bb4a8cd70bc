// The API token against a real Secret Service: gnome-keyring-daemon on a
// private session bus, driven by the built `sdm` binary and by
// CredentialStore in a child Node process. The tests read the keyring back
// with secret-tool, which shares no code with @napi-rs/keyring. A last test
// runs without any bus and checks the 0600 file fallback.
//
// These tests run the built code in dist/, so `npm run build` must come first
// (`npm test` does it).

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runSdm, type SdmRun } from '../../src/demo/sdm-process.js';
import { packageRoot } from '../../src/cli/package-root.js';
import { ExitCode } from '../../src/exit-codes.js';
import { ADMIN_TOKEN, startFakeAdminNode, type FakeAdminNode } from '../cli/fake-admin-node.js';
import { findMissingTools, privateEnvironment, SECRET_SERVICE_TOOLS, startSecretService, type SecretService } from '../helpers/secret-service.js';

const SDM_RUN_TIMEOUT_MS = 10_000;
const STORE_SCRIPT_TIMEOUT_MS = 10_000;

const DIST_STORE = join(packageRoot(), 'dist', 'src', 'agent', 'credential-store.js');
const DIST_HOME = join(packageRoot(), 'dist', 'src', 'agent', 'home.js');

const missingTools = findMissingTools();
const inCI = process.env.CI !== undefined && process.env.CI !== '';
const missingReason = missingTools.map((tool) => `${tool} (Debian package ${SECRET_SERVICE_TOOLS[tool]})`).join(', ');

/**
 * Runs CredentialStore from dist/ in a child process, so the native keyring
 * module talks to the test's bus, not to the test runner's. It prints the
 * operation's result and the warnings as JSON. The token to save comes on stdin.
 */
const STORE_SCRIPT = `
const [storeUrl, homeUrl, operation, host, port] = process.argv.slice(1);
const { CredentialStore } = await import(storeUrl);
const { sdmPaths } = await import(homeUrl);
const warnings = [];
const store = new CredentialStore({ paths: sdmPaths(process.env.SDM_HOME), env: process.env, warn: (message) => warnings.push(message) });
const gateway = { host, port: Number(port) };
let result = null;
if (operation === 'save') {
  let token = '';
  for await (const chunk of process.stdin) token += chunk;
  result = await store.saveToken(gateway, token);
} else if (operation === 'get') {
  result = (await store.getToken(gateway)) ?? null;
} else {
  await store.forgetToken(gateway);
}
process.stdout.write(JSON.stringify({ result, warnings }));
`;

interface StoreRun {
  result: unknown;
  warnings: string[];
}

function runStore(env: NodeJS.ProcessEnv, operation: 'save' | 'get' | 'forget', account: string, token = ''): Promise<StoreRun> {
  const [host, port] = account.split(':');
  const args = ['--input-type=module', '-e', STORE_SCRIPT, pathToFileURL(DIST_STORE).href, pathToFileURL(DIST_HOME).href, operation, host, port];

  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), STORE_SCRIPT_TIMEOUT_MS);

    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve(JSON.parse(stdout) as StoreRun);
      } else {
        reject(new Error(`credential store script (${operation}) exited with ${code ?? signal}: ${stderr}`));
      }
    });
    child.stdin.end(token);
  });
}

/** Fails with the command to run when dist/ has not been built. */
function requireBuild(): void {
  if (!existsSync(DIST_STORE)) {
    throw new Error(`${DIST_STORE} is missing, so the built sdm cannot run. Run npm run build first (npm test does).`);
  }
}

function keyringAttributes(account: string): Record<string, string> {
  return { service: 'sdm', username: account };
}

const runSecretService = missingTools.length === 0 || inCI;
const secretServiceTitle = runSecretService ? 'keyring on gnome-keyring' : `keyring on gnome-keyring (skipped: missing ${missingTools.join(', ')})`;
if (!runSecretService) {
  console.warn(`skipping the gnome-keyring tests: missing ${missingReason}. In CI they fail instead.`);
}

describe.runIf(runSecretService)(secretServiceTitle, () => {
  let service: SecretService;
  let node: FakeAdminNode;
  let sdmHome: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (missingTools.length > 0) {
      throw new Error(`CI is set, but the keyring tests cannot run because these programs are missing: ${missingReason}. Install them as .ci/run does.`);
    }
    requireBuild();
    node = await startFakeAdminNode();
    service = await startSecretService();
  });

  afterAll(async () => {
    await service?.close();
    await node?.close();
  });

  beforeEach(async () => {
    sdmHome = await mkdtemp(join(tmpdir(), 'sdm-keyring-home-'));
    env = { ...service.env, SDM_HOME: sdmHome };
  });

  afterEach(async () => {
    await service?.clear({ service: 'sdm' });
    await rm(sdmHome, { recursive: true, force: true });
  });

  function gateway(): string {
    return `${node.host}:${node.port}`;
  }

  function login(): Promise<SdmRun> {
    const args = ['login', '--gateway', gateway(), '--fingerprint', node.fingerprint, '--token-stdin'];
    return runSdm(args, { env, input: ADMIN_TOKEN, timeoutMs: SDM_RUN_TIMEOUT_MS });
  }

  it('login stores the token in the keyring', async () => {
    const result = await login();
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(result.stdout).toContain('token stored in the OS keyring');
    expect(result.stderr).not.toContain('warning');
    expect(existsSync(join(sdmHome, 'credentials'))).toBe(false);
    expect(await service.lookup(keyringAttributes(gateway()))).toBe(ADMIN_TOKEN);
  });

  it('logout removes the keyring entry', async () => {
    await login();
    expect(await service.lookup(keyringAttributes(gateway()))).toBe(ADMIN_TOKEN);

    const result = await runSdm(['logout'], { env, timeoutMs: SDM_RUN_TIMEOUT_MS });
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(result.stdout).toContain(`logged out of ${gateway()}`);
    expect(await service.lookup(keyringAttributes(gateway()))).toBeUndefined();
  });

  it('store saves to the keyring', async () => {
    const saved = await runStore(env, 'save', '127.0.0.1:7001', 'tok-store-save');
    expect(saved.result).toBe('keyring');
    expect(saved.warnings).toEqual([]);
    expect(existsSync(join(sdmHome, 'credentials'))).toBe(false);

    const found = await service.search(keyringAttributes('127.0.0.1:7001'));
    expect(found).toContain('secret = tok-store-save');
    expect(found).toContain('attribute.service = sdm');
    expect(found).toContain('attribute.username = 127.0.0.1:7001');
  });

  it('store reads the token back', async () => {
    await runStore(env, 'save', '127.0.0.1:7002', 'tok-store-read');
    const read = await runStore(env, 'get', '127.0.0.1:7002');
    expect(read.result).toEqual({ token: 'tok-store-read', location: 'keyring' });
  });

  it('store keeps accounts apart', async () => {
    await runStore(env, 'save', '127.0.0.1:7003', 'tok-store-first');
    await runStore(env, 'save', '127.0.0.1:7004', 'tok-store-second');
    expect(await service.lookup(keyringAttributes('127.0.0.1:7003'))).toBe('tok-store-first');
    expect(await service.lookup(keyringAttributes('127.0.0.1:7004'))).toBe('tok-store-second');
  });

  it('store forgets the keyring entry', async () => {
    const saved = await runStore(env, 'save', '127.0.0.1:7005', 'tok-store-forget');
    expect(saved.result).toBe('keyring');

    await runStore(env, 'forget', '127.0.0.1:7005');
    expect(await service.lookup(keyringAttributes('127.0.0.1:7005'))).toBeUndefined();

    const read = await runStore(env, 'get', '127.0.0.1:7005');
    expect(read.result).toBeNull();
  });

  it('store forgets a missing entry', async () => {
    await runStore(env, 'save', '127.0.0.1:7006', 'tok-store-other');
    const forgotten = await runStore(env, 'forget', '127.0.0.1:7008');
    expect(forgotten.warnings).toEqual([]);
    expect(await service.lookup(keyringAttributes('127.0.0.1:7006'))).toBe('tok-store-other');
  });

  it('store moves a file token to the keyring', async () => {
    const credentials = join(sdmHome, 'credentials');
    await writeFile(credentials, JSON.stringify({ '127.0.0.1:7007': 'tok-store-old' }), { mode: 0o600 });

    const saved = await runStore(env, 'save', '127.0.0.1:7007', 'tok-store-new');
    expect(saved.result).toBe('keyring');
    expect(await readFile(credentials, 'utf8')).not.toContain('tok-store-old');
    expect(await service.lookup(keyringAttributes('127.0.0.1:7007'))).toBe('tok-store-new');
  });
});

describe('keyring without a session bus', () => {
  let node: FakeAdminNode;
  let root: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    requireBuild();
    node = await startFakeAdminNode();
  });

  afterAll(async () => {
    await node?.close();
  });

  beforeEach(async () => {
    // No DBUS_SESSION_BUS_ADDRESS, and an empty XDG_RUNTIME_DIR, so no default bus socket exists either.
    const isolated = await privateEnvironment('sdm-keyring-nobus-');
    root = isolated.root;
    env = { ...isolated.env, SDM_HOME: join(root, 'sdm') };
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function login(): Promise<SdmRun> {
    const args = ['login', '--gateway', `${node.host}:${node.port}`, '--fingerprint', node.fingerprint, '--token-stdin'];
    return runSdm(args, { env, input: ADMIN_TOKEN, timeoutMs: SDM_RUN_TIMEOUT_MS });
  }

  it('login falls back to a 0600 file', async () => {
    const result = await login();
    expect(result.code, result.stderr).toBe(ExitCode.OK);
    expect(result.stdout).toContain('token stored in the credentials file');

    const credentials = join(root, 'sdm', 'credentials');
    const info = await stat(credentials);
    expect(info.mode & 0o777).toBe(0o600);
    expect(await readFile(credentials, 'utf8')).toContain(ADMIN_TOKEN);
  });

  it('login warns once on fallback', async () => {
    const result = await login();
    expect(result.stderr.match(/warning: no OS keyring is available/g)).toHaveLength(1);
    expect(result.stderr).toContain(join(root, 'sdm', 'credentials'));
    expect(result.stderr).not.toContain(ADMIN_TOKEN);
  });

  it('store reads the file without a warning', async () => {
    await login();
    const read = await runStore(env, 'get', `${node.host}:${node.port}`);
    expect(read.result).toEqual({ token: ADMIN_TOKEN, location: 'file' });
    expect(read.warnings).toEqual([]);
  });
});
