import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runProgram, startFidelityEnv, type FidelityEnv } from '../helpers/fidelity-env.js';
import { DEBIAN_PYTHON, IN_CI, JDBC_JAR, jdbcAvailable, psycopgAvailable } from '../helpers/fidelity-tools.js';
import { tempDir } from '../helpers/postgres.js';

/** Bound on one driver program, including the JVM compiling its source. */
const DRIVER_TIMEOUT_MS = 60_000;

const hasPsycopg = psycopgAvailable();
const hasJdbc = jdbcAvailable();

// Exercises a server-side cursor (DECLARE and FETCH in batches), a NOTICE, and
// a cancel through the connection's own cancel key.
const PSYCOPG_SCRIPT = `
import os, threading, psycopg2, psycopg2.extensions
conn = psycopg2.connect(host='127.0.0.1', port=int(os.environ['PGPORT']), user='anyone', dbname=os.environ['PGDATABASE'], sslmode='disable')
cur = conn.cursor('fid_named_cursor')
cur.itersize = 3
cur.execute('SELECT n FROM generate_series(1, 10) AS n')
print('rows', sum(row[0] for row in cur))
cur.close()
plain = conn.cursor()
plain.execute("DO $$ BEGIN RAISE NOTICE 'fid psycopg notice'; END $$")
print('notice', conn.notices[-1].strip())
conn.commit()
timer = threading.Timer(1.0, conn.cancel)
timer.start()
try:
    plain.execute('SELECT pg_sleep(60)')
    print('cancel missed')
except psycopg2.extensions.QueryCanceledError as error:
    print('cancel', error.pgcode)
conn.close()
`;

// Runs one statement more times than prepareThreshold, so pgjdbc switches to
// a named server-side statement with binary transfer, and reads a bytea back.
const JDBC_SOURCE = `
import java.sql.*;
public class FidelityProbe {
  public static void main(String[] args) throws Exception {
    String url = "jdbc:postgresql://127.0.0.1:" + System.getenv("PGPORT") + "/" + System.getenv("PGDATABASE") + "?user=anyone&sslmode=disable&prepareThreshold=2";
    try (Connection conn = DriverManager.getConnection(url)) {
      long sum = 0;
      try (PreparedStatement statement = conn.prepareStatement("SELECT ?::int * 2")) {
        for (int i = 1; i <= 5; i++) {
          statement.setInt(1, i);
          try (ResultSet rows = statement.executeQuery()) { rows.next(); sum += rows.getInt(1); }
        }
      }
      System.out.println("sum " + sum);
      try (PreparedStatement statement = conn.prepareStatement("SELECT ?::bytea")) {
        statement.setBytes(1, new byte[] { 0, 1, (byte) 0xff });
        try (ResultSet rows = statement.executeQuery()) { rows.next(); System.out.println("bytes " + rows.getBytes(1).length); }
      }
    }
  }
}
`;

let env: FidelityEnv;

beforeAll(async () => {
  env = await startFidelityEnv();
});

afterAll(async () => {
  await env?.close();
});

describe('other drivers', () => {
  it.runIf(IN_CI)('CI has psycopg2 and pgjdbc', () => {
    expect(hasPsycopg, `install python3-psycopg2 so that ${DEBIAN_PYTHON} can import psycopg2`).toBe(true);
    expect(hasJdbc, `install libpostgresql-jdbc-java (${JDBC_JAR}) and a JDK`).toBe(true);
  });

  it.runIf(hasPsycopg)('psycopg2 cursor, notice and cancel', async () => {
    const result = await runProgram(DEBIAN_PYTHON, ['-c', PSYCOPG_SCRIPT], { env: env.libpqEnv(), timeoutMs: DRIVER_TIMEOUT_MS });

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('rows 55');
    expect(result.stdout).toContain('notice NOTICE:  fid psycopg notice');
    expect(result.stdout).toContain('cancel 57014');
  });

  it.runIf(hasJdbc)('pgjdbc prepared statements', async () => {
    const source = path.join(tempDir('sdm-fid-jdbc-'), 'FidelityProbe.java');
    fs.writeFileSync(source, JDBC_SOURCE);

    const result = await runProgram('java', ['-cp', JDBC_JAR, source], { env: env.libpqEnv(), timeoutMs: DRIVER_TIMEOUT_MS });

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('sum 30');
    expect(result.stdout).toContain('bytes 3');
  });
});
