import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { launcherPath } from '../../src/cli/package-root.js';
import { ExitCode } from '../../src/exit-codes.js';
import { createHarness, type Harness } from './cli-harness.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let harness: Harness;

beforeEach(async () => {
  harness = await createHarness();
});

afterEach(async () => {
  await harness.remove();
});

describe('version', () => {
  it('prints the package version', async () => {
    const result = await harness.run(['--version']);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toBe(`${VERSION}\n`);
  });

  it('prints it for -V', async () => {
    const result = await harness.run(['-V']);
    expect(result.stdout).toBe(`${VERSION}\n`);
  });

  it('bin prints it without the build', async () => {
    const { stdout } = await promisify(execFile)(launcherPath(), ['--version']);
    expect(stdout).toBe(`${VERSION}\n`);
  });
});
