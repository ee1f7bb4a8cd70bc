// Long synchronous work on the node (scanning the query log, encoding a large
// listing) runs on the thread that relays every session's bytes, so it stops
// now and then to let the event loop run.

import { setImmediate } from 'node:timers/promises';

/** Time long work runs before it lets the event loop run. */
export const WORK_SLICE_MS = 4;

/** Tracks when long work last let the event loop run. */
export class EventLoopPacer {
  private lastYield = performance.now();

  constructor(private readonly sliceMs = WORK_SLICE_MS) {}

  /** Lets the event loop run once `sliceMs` have passed since it last did. */
  async pause(): Promise<void> {
    if (performance.now() - this.lastYield >= this.sliceMs) {
      await this.yield();
    }
  }

  /** Lets the event loop run now. */
  async yield(): Promise<void> {
    await setImmediate();
    this.lastYield = performance.now();
  }
}
