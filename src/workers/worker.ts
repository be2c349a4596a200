/**
 * Building an Unroll worker: one Temporal worker that hosts both workflows and every
 * activity on a task queue. The workflow code comes from a prebuilt bundle when one is
 * given (the CLI and the tests bundle once), otherwise it is bundled from source.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';

/**
 * How long a stopping worker may take to drain before the SDK gives up on it (it then
 * fails with GracefulShutdownPeriodExpiredError): a worker must always stop.
 */
export const WORKER_SHUTDOWN_FORCE_MS = 10_000;

/** Options of {@link createUnrollWorker}. */
export interface UnrollWorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly deps: ActivityDeps;
  /** Path of a bundle made by `bundleWorkflowCode`; found next to dist/ when omitted. */
  readonly workflowBundlePath?: string;
  /** Extra worker options (concurrency, sticky cache, identity). */
  readonly tuning?: Partial<WorkerOptions>;
  /**
   * Payload codecs: encryption (see `dataConverterFor` in src/codec), or, for a worker
   * without keys, the codec that refuses encrypted payloads (`runtimeDataConverter` in
   * src/client/runtime.ts passes one or the other). The SDK default when omitted.
   */
  readonly dataConverter?: DataConverter;
}

/** The bundle `npm run build` writes, if present. */
export function defaultWorkflowBundlePath(): string | undefined {
  const candidate = path.resolve(__dirname, '..', '..', 'workflow-bundle.js');
  return existsSync(candidate) ? candidate : undefined;
}

/** Where the workflow sources are, for bundling at start-up. */
export const WORKFLOWS_PATH = require.resolve('../workflows');

/** Creates (but does not run) a worker hosting Unroll's workflows and activities. */
export async function createUnrollWorker(options: UnrollWorkerOptions): Promise<Worker> {
  const bundlePath = options.workflowBundlePath ?? defaultWorkflowBundlePath();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    activities: createActivities(options.deps),
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    // Heartbeats are how a running activity learns it was cancelled (an interrupt):
    // send them at least every second so a killed command stops within about a second.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    // After a worker dies, its cached workflows' next tasks wait this long on its sticky
    // queue before any worker may take them (the SDK default is 10 s): the bulk of the
    // time a crash costs. Live workers pick sticky tasks up in milliseconds.
    stickyQueueScheduleToStartTimeout: '2s',
    // Without it a worker whose drain never completes (a task stuck in the SDK) never
    // stops, and neither does the process that waits for it.
    shutdownForceTime: WORKER_SHUTDOWN_FORCE_MS,
    ...options.tuning,
  });
}
