import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { binPath, packageRoot } from '../../src/cli/package-root.js';

/** Top-level commands as `sdm --help` lists them, so a new command cannot be left out of the scripts. */
function topLevelCommands(): string[] {
  const help = execFileSync(process.execPath, [binPath(), '--help'], { encoding: 'utf8' });
  const section = help.slice(help.indexOf('Commands:'));
  return [...section.matchAll(/^ {2}([a-z-]+)/gm)].map((match) => match[1]).filter((name) => name !== 'help');
}

describe('completion scripts', () => {
  const commands = topLevelCommands();

  it('finds the commands in the help', () => {
    expect(commands).toContain('connect');
    expect(commands).toContain('demo');
  });

  it.each(['sdm.bash', '_sdm', 'sdm.fish'])('%s offers every command', (file) => {
    const script = fs.readFileSync(path.join(packageRoot(), 'completions', file), 'utf8');

    for (const command of commands) {
      expect(script, `${file} is missing ${command}`).toContain(command);
    }
  });
});
