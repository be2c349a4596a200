/**
 * A real Unroll worker process for crash tests that stops dead at one step of a tool:
 * when a tool reports the step named by `UNROLL_TEST_PAUSE_AT` (see
 * `ToolContext.stepHook`, e.g. `apply_patch:committed:log.txt`), it writes the file named
 * by `UNROLL_TEST_PAUSED_FILE` and never returns, so the test can SIGKILL the process at
 * exactly that point. Otherwise it is the worker `unroll worker` runs (same activities,
 * store under `UNROLL_HOME`, workflow bundle from `npm run build`).
 *
 * Test code only: the hook is a dependency this entry point passes in; the CLI's worker
 * never sets one. `npm run build` compiles it to {@link PAUSING_WORKER}; start it with
 * `spawnWorker({ ..., script: PAUSING_WORKER })` (./worker-process.ts).
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { currentHostFacts } from '../../src/activities';
import { openFsStore } from '../../src/store';
import { createUnrollWorker } from '../../src/workers/worker';
import { DEFAULT_SHELL_ENVIRONMENT_POLICY, toolEnvironment } from '../../src/tools/environment';

/** The compiled entry point, from test/support under ts-jest or from dist/test/support. */
export const PAUSING_WORKER = __filename.endsWith('.js') ? __filename : path.resolve(__dirname, '..', '..', 'dist', 'test', 'support', 'pausing-worker.js');

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`pausing-worker: ${name} is not set`);
  return value;
}

async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const pauseAt = required(env, 'UNROLL_TEST_PAUSE_AT');
  const pausedFile = required(env, 'UNROLL_TEST_PAUSED_FILE');
  const taskQueue = required(env, 'UNROLL_TASK_QUEUE');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const connection = await NativeConnection.connect({ address: required(env, 'UNROLL_TEMPORAL_ADDRESS') });
  const toolStepHook = (step: string): Promise<void> => {
    if (step !== pauseAt) return Promise.resolve();
    writeFileSync(pausedFile, `${step}\n`);
    return new Promise<void>(() => undefined);
  };
  const worker = await createUnrollWorker({
    connection,
    namespace: 'default',
    taskQueue,
    deps: { store: openFsStore(required(env, 'UNROLL_HOME')), apiKey: (name) => env[name], host: currentHostFacts(env), toolStepHook, toolEnvironment: toolEnvironment(env, DEFAULT_SHELL_ENVIRONMENT_POLICY, []) },
  });
  process.stderr.write(`worker running on task queue "${taskQueue}" (pausing at ${pauseAt})\n`);
  await worker.run();
}

if (require.main === module) {
  main(process.env).catch((error: unknown) => {
    process.stderr.write(`pausing-worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
