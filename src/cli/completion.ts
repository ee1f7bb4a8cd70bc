// `sdm completion bash|zsh|fish` prints the completion script shipped in
// completions/. The hidden `sdm __complete resources` feeds those scripts
// resource names from the node, one per line, and prints nothing at all when
// it fails, so a shell never shows an error in the middle of a command line.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { COMPLETION_FILES, type Shell } from './commands/completion.js';
import type { CliContext } from './context.js';
import { packageRoot } from './package-root.js';
import { fetchResources } from './resource-select.js';

export async function printScript(context: CliContext, shell: Shell): Promise<void> {
  const script = await readFile(join(packageRoot(), 'completions', COMPLETION_FILES[shell]), 'utf8');
  context.io.stdout.write(script);
}

export async function completeWords(context: CliContext, kind: string): Promise<void> {
  if (kind !== 'resources') {
    return;
  }
  try {
    const resources = await fetchResources(context.viaAgent(await context.session()));
    for (const resource of resources) {
      context.output.line(resource.name);
    }
  } catch {
    // Completion stays silent: the user sees no names rather than an error.
  }
}
