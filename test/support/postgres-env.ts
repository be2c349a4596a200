/**
 * The PostgreSQL cluster shared by one Jest run: started by ./global-setup.ts, stopped
 * by ./global-teardown.ts, found by test files through `UNROLL_TEST_PG_URL`. When the
 * server binaries are missing the run goes on (most tests do not need PostgreSQL) and
 * the tests that do fail with the reason, through {@link testPostgresUrl}.
 */
import { startPostgres, stopPostgres, type PostgresCluster } from './postgres';

const CLUSTER = '__UNROLL_TEST_PG__';

/** Starts the run's cluster and exports its URL; never throws (see the module comment). */
export async function startTestPostgres(): Promise<void> {
  try {
    const cluster = await startPostgres();
    (globalThis as Record<string, unknown>)[CLUSTER] = cluster;
    process.env.UNROLL_TEST_PG_URL = cluster.url;
    delete process.env.UNROLL_TEST_PG_ERROR;
  } catch (err) {
    process.env.UNROLL_TEST_PG_ERROR = (err as Error).message;
    process.stderr.write(`[setup] WARNING: no PostgreSQL for this run, the PostgreSQL store tests will fail: ${(err as Error).message}\n`);
  }
}

/** Stops the run's cluster, if one was started. */
export async function stopTestPostgres(): Promise<void> {
  const cluster = (globalThis as Record<string, unknown>)[CLUSTER] as PostgresCluster | undefined;
  if (cluster) await stopPostgres(cluster);
  delete (globalThis as Record<string, unknown>)[CLUSTER];
}

/** The URL of the run's cluster (its `unroll` database); throws why there is none. */
export function testPostgresUrl(): string {
  const url = process.env.UNROLL_TEST_PG_URL;
  if (url) return url;
  throw new Error(`no PostgreSQL cluster for this run: ${process.env.UNROLL_TEST_PG_ERROR ?? 'UNROLL_TEST_PG_URL is not set (is Jest running test/support/global-setup.ts?)'}`);
}
