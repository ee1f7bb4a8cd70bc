#!/usr/bin/env node
// Entry point of the sdm command, which the bin/sdm launcher runs.
// `sdm --version` is handled here from package.json, before commander and the
// rest of the CLI load, so that the most common health check of an install
// stays fast.

import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);

if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${manifest.version}\n`);
} else {
  await import('../dist/bundle/main.js');
}
