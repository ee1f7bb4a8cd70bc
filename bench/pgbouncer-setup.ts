// A pgbouncer of the system (session pooling) on a loopback port, as the
// well-known single hop. It authenticates clients with the fixed role's
// password from its own auth file and connects to PostgreSQL with TLS.
// pgbouncer refuses to run as root, so as root it runs as the OS user that
// runs the embedded PostgreSQL.

import { access, chown, mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

import { resolveServerIdentity } from '../src/demo/postgres-process.js';
import { spawnListening } from './child-process.js';
import { BENCH_DATABASE, FIXED_ROLE } from './postgres-setup.js';

export const PGBOUNCER_PATH = '/usr/sbin/pgbouncer';

/** Server connections per database and user; at least the 8 pgbench clients. */
const PGBOUNCER_POOL_SIZE = 20;

const PGBOUNCER_MAX_CLIENTS = 200;

export interface Pgbouncer {
  port: number;
  pid: number;
}

/** Returns undefined when pgbouncer is not installed at PGBOUNCER_PATH. */
export async function startPgbouncer(root: string, postgresPort: number, fixedPassword: string, track: (stop: () => Promise<void>) => void): Promise<Pgbouncer | undefined> {
  if (!(await isInstalled())) {
    return undefined;
  }

  const dir = path.join(root, 'pgbouncer');
  await mkdir(dir, { mode: 0o700 });
  const port = await freeLoopbackPort();
  await writeFile(path.join(dir, 'userlist.txt'), `"${FIXED_ROLE}" "${fixedPassword}"\n`, { mode: 0o600 });
  await writeFile(path.join(dir, 'pgbouncer.ini'), renderConfig(dir, port, postgresPort));

  const identity = await resolveServerIdentity();
  if (identity !== undefined) {
    await chown(dir, identity.uid, identity.gid);
    await chown(path.join(dir, 'userlist.txt'), identity.uid, identity.gid);
  }

  // Without -d, pgbouncer stays in the foreground, so its PID is the child's.
  const child = await spawnListening('pgbouncer', PGBOUNCER_PATH, [path.join(dir, 'pgbouncer.ini')], port, { ...(identity ?? {}), cwd: dir });
  track(child.stop);
  return { port, pid: child.pid };
}

function renderConfig(dir: string, port: number, postgresPort: number): string {
  return [
    '[databases]',
    `${BENCH_DATABASE} = host=127.0.0.1 port=${postgresPort} dbname=${BENCH_DATABASE}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = plain',
    `auth_file = ${path.join(dir, 'userlist.txt')}`,
    'pool_mode = session',
    `default_pool_size = ${PGBOUNCER_POOL_SIZE}`,
    `max_client_conn = ${PGBOUNCER_MAX_CLIENTS}`,
    'server_tls_sslmode = require',
    'ignore_startup_parameters = extra_float_digits',
    `logfile = ${path.join(dir, 'pgbouncer.log')}`,
    '',
  ].join('\n');
}

async function isInstalled(): Promise<boolean> {
  try {
    await access(PGBOUNCER_PATH);
    return true;
  } catch {
    return false;
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
