// The bin/sdm launcher, run through a symlink as npm installs it, with a
// stand-in `node` first on PATH that reports what it was given.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, launcherPath } from '../../src/cli/package-root.js';

let dir: string;
let linkedSdm: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdm-launcher-'));
  const fakeBin = path.join(dir, 'fake-node');
  fs.mkdirSync(fakeBin);
  fs.writeFileSync(
    path.join(fakeBin, 'node'),
    '#!/bin/sh\necho "extra=${NODE_EXTRA_CA_CERTS-unset} saved=${SDM_CALLER_NODE_EXTRA_CA_CERTS-unset} other=${SDM_OTHER-unset}"\nfor arg in "$@"; do echo "arg=$arg"; done\n',
    { mode: 0o755 },
  );

  const installBin = path.join(dir, 'node_modules', '.bin');
  fs.mkdirSync(installBin, { recursive: true });
  linkedSdm = path.join(installBin, 'sdm');
  fs.symlinkSync(path.relative(installBin, launcherPath()), linkedSdm);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function launch(args: string[]): string[] {
  const env = { ...process.env, PATH: `${path.join(dir, 'fake-node')}:${process.env.PATH}`, NODE_EXTRA_CA_CERTS: '/tmp/extra.pem', SDM_OTHER: 'kept' };
  return execFileSync(linkedSdm, args, { env, encoding: 'utf8' }).trimEnd().split('\n');
}

describe('bin/sdm launcher', () => {
  it('runs the entry script through a symlink', () => {
    const [, script, ...args] = launch(['status', '--filter', 'a b', '']);
    expect(fs.realpathSync(script!.replace(/^arg=/, ''))).toBe(fs.realpathSync(binPath()));
    expect(args).toEqual(['arg=status', 'arg=--filter', 'arg=a b', 'arg=']);
  });

  it('moves the CA variable aside for clients', () => {
    expect(launch(['status'])[0]).toBe('extra=unset saved=/tmp/extra.pem other=kept');
    expect(launch(['connect', 'pg', '--', 'psql'])[0]).toBe('extra=unset saved=/tmp/extra.pem other=kept');
  });

  it('keeps the CA variable for gateway', () => {
    expect(launch(['gateway', 'run', '--data-dir', '/tmp/x'])[0]).toBe('extra=/tmp/extra.pem saved=unset other=kept');
  });
});
