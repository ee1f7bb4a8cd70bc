// Vitest global setup: starts one embedded PostgreSQL for the whole test run
// and hands its address, CA certificate and superuser login to the test
// files through `inject('postgres')`. Tests that stop or restart a server
// start their own with startEmbeddedPostgres. Set SDM_TEST_POSTGRES_LOG=1 to
// copy the server's log to stderr.

import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/demo/embedded-postgres.js';

/** What test files receive about the shared server. */
export interface SharedPostgresInfo {
  host: string;
  port: number;
  /** PEM to trust for sslmode=verify-full. */
  caPem: string;
  adminUser: string;
  adminPassword: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: SharedPostgresInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const copyLog = process.env.SDM_TEST_POSTGRES_LOG === '1';
  const postgres = await startEmbeddedPostgres({
    onLog: copyLog ? (line) => process.stderr.write(`[shared postgres] ${line}\n`) : undefined,
  });

  project.provide('postgres', {
    host: postgres.host,
    port: postgres.port,
    caPem: postgres.caPem,
    adminUser: postgres.adminUser,
    adminPassword: postgres.adminPassword,
  });

  return async () => {
    await postgres.stop();
  };
}
