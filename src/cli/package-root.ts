// Finds files shipped with the package (package.json, bin/sdm, completions/)
// from this module's location. The module runs from src/cli/ under vitest and
// from dist/src/cli/ once built, so the root is found by walking up.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** Returns the directory that contains sdm's package.json. */
export function packageRoot(): string {
  if (cachedRoot !== undefined) {
    return cachedRoot;
  }

  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(directory, 'package.json')) && existsSync(join(directory, 'bin'))) {
      cachedRoot = directory;
      return directory;
    }
    const parent = dirname(directory);
    if (parent === directory) {
      throw new Error(`cannot find sdm's package.json above ${fileURLToPath(import.meta.url)}`);
    }
    directory = parent;
  }
}

/** Returns the version field of sdm's package.json. */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/** Path of the `sdm` entry script, which the CLI runs with Node.js to start the agent in the background. */
export function binPath(): string {
  return join(packageRoot(), 'bin', 'sdm.js');
}

/** Path of the `sdm` launcher that users run, which runs the entry script. */
export function launcherPath(): string {
  return join(packageRoot(), 'bin', 'sdm');
}
