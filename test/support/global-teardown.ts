/** Jest global teardown: stops the dev server started by ./global-setup.ts. */
import { rm } from 'node:fs/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';

export default async function globalTeardown(): Promise<void> {
  const env = (globalThis as Record<string, unknown>).__UNROLL_TEST_ENV__ as TestWorkflowEnvironment | undefined;
  await env?.teardown();
  if (process.env.UNROLL_TEST_TMP) await rm(process.env.UNROLL_TEST_TMP, { recursive: true, force: true });
}
