/** Jest global teardown: stops the dev server and the PostgreSQL cluster started by ./global-setup.ts. */
import { rm } from 'node:fs/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { stopTestPostgres } from './postgres-env';

export default async function globalTeardown(): Promise<void> {
  const env = (globalThis as Record<string, unknown>).__UNROLL_TEST_ENV__ as TestWorkflowEnvironment | undefined;
  await env?.teardown();
  await stopTestPostgres();
  if (process.env.UNROLL_TEST_TMP) await rm(process.env.UNROLL_TEST_TMP, { recursive: true, force: true });
}
