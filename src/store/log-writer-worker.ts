// Entry point of the worker thread that writes audit records, so that SQLite
// inserts run beside the thread that relays bytes instead of on it. It opens
// its own connection to the store file; WAL mode lets the node's connection
// read and write meanwhile.

import { parentPort, workerData } from 'node:worker_threads';

import { openSqliteStore } from './sqlite-store.js';
import type { LogWriteReply, LogWriteRequest } from './worker-log-sink.js';

const port = parentPort;
if (!port) {
  throw new Error('log-writer-worker must run as a worker thread');
}

const store = await openSqliteStore((workerData as { path: string }).path);

port.on('message', (request: LogWriteRequest) => {
  void handle(request).then((reply) => port.postMessage(reply));
});

async function handle(request: LogWriteRequest): Promise<LogWriteReply> {
  try {
    if (request.kind === 'close') {
      await store.close();
    } else if (request.kind === 'connections') {
      await store.writeConnections(request.records);
    } else {
      await store.writeQueries(request.records);
    }
    return { id: request.id, ok: true };
  } catch (error) {
    return { id: request.id, ok: false, message: (error as Error).message };
  }
}
