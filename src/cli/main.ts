// Entry point of the `sdm` command, run by bin/sdm with the process's own
// streams. Everything else lives in run.ts so tests can run it in-process.

import { processIo } from './io.js';
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2), processIo());
