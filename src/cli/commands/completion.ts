// Definitions of `sdm completion` and the hidden `sdm __complete`; the actions are in ../completion.ts.

import { Argument, type Command } from 'commander';
import type { CliRun } from '../cli-run.js';

/** Completion script of each shell, as a file name under completions/. */
export const COMPLETION_FILES = {
  bash: 'sdm.bash',
  zsh: '_sdm',
  fish: 'sdm.fish',
} as const;

export type Shell = keyof typeof COMPLETION_FILES;

export function defineCompletion(program: Command, run: CliRun): void {
  const load = () => import('../completion.js');

  program
    .command('completion')
    .description('print the completion script of a shell')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(Object.keys(COMPLETION_FILES)))
    .action((shell: Shell) => run.action(load, (module, context) => module.printScript(context, shell)));

  program
    .command('__complete', { hidden: true })
    .argument('<kind>', 'kind of word to list: resources')
    .action((kind: string) => run.action(load, (module, context) => module.completeWords(context, kind)));
}
