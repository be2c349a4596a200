/**
 * A worker for the floor workflow (./workflows.ts) and the runs that measure it: the
 * engine's own cost per agent step, with nothing of Unroll in it. Used by the overhead
 * benchmark, the dev-server limits benchmark and the cluster benchmark.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, type NativeConnection, Worker } from '@temporalio/worker';

/** A running floor worker on its own task queue. */
export interface FloorWorker {
  readonly taskQueue: string;
  stop(): Promise<void>;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/** Starts a floor worker on a fresh task queue of `namespace`. */
export async function startFloorWorker(connection: NativeConnection, namespace = 'default'): Promise<FloorWorker> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quietLogger });
  const taskQueue = `floor-${randomUUID()}`;
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue,
    workflowBundle: { code },
    activities: {
      noopInference: (input: { step: number; head: string }) => Promise.resolve({ head: `${input.head.slice(0, 8)}${input.step}`, calls: 1 }),
      noopTool: () => Promise.resolve({ output: 'ok' }),
    },
  });
  const running = worker.run();
  return {
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

/** Runs `sessions` floor workflows of `steps` steps (each two activities, or one) at once; resolves with the wall time in ms. */
export async function runFloor(client: Client, worker: FloorWorker, steps: number, sessions = 1, activitiesPerStep: 1 | 2 = 2): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: sessions }, () =>
      client.workflow.execute('FloorWorkflow', { taskQueue: worker.taskQueue, workflowId: `floor-${randomUUID()}`, args: [steps, activitiesPerStep] }),
    ),
  );
  return performance.now() - started;
}
