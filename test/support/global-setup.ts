/**
 * Jest global setup: one real Temporal dev server, one private PostgreSQL cluster and one
 * workflow bundle for the whole run. Test files find them through environment variables
 * (see ./temporal-env.ts and ./postgres-env.ts).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { searchAttributeArgs } from '../../src/shared/search-attributes';
import { dynamicConfigArgs } from '../../src/temporal/dynamic-config';
import { findTemporalCli } from '../../src/temporal/temporal-cli';
import { startTestPostgres, stopTestPostgres } from './postgres-env';

const repoRoot = path.resolve(__dirname, '..', '..');

export default async function globalSetup(): Promise<void> {
  // The cluster's initdb runs while the dev server starts.
  const postgres = startTestPostgres();
  try {
    const cliPath = await findTemporalCli({
      explicitPath: process.env.UNROLL_TEMPORAL_CLI,
      toolsDir: path.join(repoRoot, '.tools'),
      install: true,
      log: (msg: string) => process.stderr.write(`[setup] ${msg}\n`),
    });
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: cliPath },
        ip: '127.0.0.1',
        // The same dynamic config as the dev server the CLI starts, so tests run on the server users get.
        // Unroll's search attributes too, as on the dev server the CLI starts.
        extraArgs: ['--log-level', 'error', ...dynamicConfigArgs(), ...searchAttributeArgs()],
      },
    });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-test-'));
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../src/workflows'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
    });
    const bundlePath = path.join(dir, 'workflow-bundle.js');
    await writeFile(bundlePath, code);
    const address = env.connection.options.address;
    // Tests run many `bash -lc` commands; where the login profile runs pyenv, a shell the
    // tests killed mid-rehash leaves a lock that makes every later login shell wait 60 s.
    process.env.PYENV_REHASH_TIMEOUT ??= '2';
    process.env.UNROLL_TEST_TEMPORAL_ADDRESS = address;
    process.env.UNROLL_TEST_WORKFLOW_BUNDLE = bundlePath;
    process.env.UNROLL_TEST_TEMPORAL_CLI = cliPath;
    process.env.UNROLL_TEST_TMP = dir;
    (globalThis as Record<string, unknown>).__UNROLL_TEST_ENV__ = env;
  } catch (err) {
    await postgres;
    await stopTestPostgres();
    throw err;
  }
  await postgres;
}
