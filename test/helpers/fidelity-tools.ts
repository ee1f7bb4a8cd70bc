// Detects the optional client programs the fidelity tests drive. A test
// that needs one runs only when it is present, and a companion test fails
// under CI when it is missing, so CI never passes without running them.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** Debian's interpreter, which python3-psycopg2 installs into; a python3 earlier on PATH may not see it. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** Where libpostgresql-jdbc-java installs the driver. */
export const JDBC_JAR = '/usr/share/java/postgresql.jar';

/** Reports whether Debian's python3 can import psycopg2. */
export function psycopgAvailable(): boolean {
  return fs.existsSync(DEBIAN_PYTHON) && spawnSync(DEBIAN_PYTHON, ['-c', 'import psycopg2'], { stdio: 'ignore' }).status === 0;
}

/** Reports whether java and the PostgreSQL JDBC driver are installed. */
export function jdbcAvailable(): boolean {
  return fs.existsSync(JDBC_JAR) && spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
}

/** Returns the major version of an installed PostgreSQL client program, or undefined when it is missing. */
export function clientMajorVersion(program: string): number | undefined {
  const result = spawnSync(program, ['--version'], { encoding: 'utf8' });
  const match = /\(PostgreSQL\) (\d+)/.exec(result.stdout ?? '');
  return match ? Number(match[1]) : undefined;
}

/** True when the test run is in CI, where every optional program must be present. */
export const IN_CI = Boolean(process.env.CI);
