// The state of one CLI run that the command definitions share. Command
// modules, and the context with the clients they use, are imported only
// when an action runs, so `sdm --help` and a usage error load commander
// and little else.

import type { CliContext } from './context.js';
import type { CliDeps, CliIo } from './io.js';
import type { Output } from './output.js';

export class CliRun {
  readonly io: CliIo;
  readonly deps: CliDeps;
  /** Words after `--` on the command line, which only sdm connect accepts. */
  readonly passthrough: string[];
  private loaded: CliContext | undefined;

  constructor(io: CliIo, deps: CliDeps, passthrough: string[]) {
    this.io = io;
    this.deps = deps;
    this.passthrough = passthrough;
  }

  /** Returns the context of the actions, importing and building it on first use. */
  async context(): Promise<CliContext> {
    if (this.loaded === undefined) {
      const { CliContext } = await import('./context.js');
      this.loaded ??= new CliContext(this.io, this.deps, this.passthrough);
    }
    return this.loaded;
  }

  /** Imports an action's module with `load`, then calls the action with the context. */
  async action<M>(load: () => Promise<M>, call: (module: M, context: CliContext) => Promise<void>): Promise<void> {
    const [module, context] = await Promise.all([load(), this.context()]);
    await call(module, context);
  }

  /** Exit code an action set, or 0 when none ran. */
  exitCode(): number {
    return this.loaded?.exitCode ?? 0;
  }

  /** Returns the output of the context, or a new one when no action ran. */
  async output(): Promise<Output> {
    if (this.loaded !== undefined) {
      return this.loaded.output;
    }
    const { Output } = await import('./output.js');
    return new Output(this.io);
  }
}
