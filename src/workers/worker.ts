/**
 * Building an Unroll worker: one Temporal worker that hosts both workflows and every
 * activity on a task queue. The workflow code comes from a prebuilt bundle when one is
 * given (the CLI and the tests bundle once), otherwise it is bundled from source.
 *
 * A host (`unroll worker`, the CLI's in-process worker) runs two of them on one
 * connection: the shared queue's (workflows and every activity) and its own host queue's
 * (the workspace activities only: see src/shared/hosts.ts and {@link createHostWorkers}).
 * Only host workers run the failover activities (src/activities/failover.ts): adopting
 * a thread needs a host to pin it to.
 */
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type State, type WorkerOptions } from '@temporalio/worker';
import { createActivities, workspaceActivities, type ActivityDeps } from '../activities';
import { createFailoverActivities, type FailoverDeps } from '../activities/failover';
import { checkoutCheckpoint } from '../checkpoints';
import { DEFAULT_HOST_LIVENESS_WINDOW_S } from '../config/config';
import { processMcpPool, type McpClientPool } from '../mcp/pool';
import { hostTaskQueue } from '../shared/hosts';
import { turnProgressSinks } from './turn-progress-sinks';

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
  /** Activities registered besides Unroll's own (a host's failover activities). */
  readonly extraActivities?: Record<string, (...args: never[]) => Promise<unknown>>;
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
    ...commonOptions(options),
    taskQueue: options.taskQueue,
    activities: { ...createActivities(options.deps), ...options.extraActivities },
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    ...options.tuning,
  });
}

/** Options every worker of a process shares (connection, codecs, heartbeats, shutdown). */
function commonOptions(options: UnrollWorkerOptions): Partial<WorkerOptions> & Pick<WorkerOptions, 'connection'> {
  return {
    connection: options.connection,
    namespace: options.namespace,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    // Turns publish their progress events to followers in this process (./turn-progress-sinks).
    sinks: turnProgressSinks(),
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
  };
}

/** Options of {@link createHostWorkers}. */
export interface HostWorkerOptions extends UnrollWorkerOptions {
  /** The host id (validated by the config): names the host queue and the workers' identity. */
  readonly hostId: string;
  /**
   * How this host adopts the threads of lost hosts (src/activities/failover.ts): its
   * workspace root and liveness window, and the restore. Default: `<tmpdir>/unroll-workspaces`
   * as an unconfigured root, a 75 s window, the checkpoint engine's checkout.
   */
  readonly failover?: Omit<FailoverDeps, 'hostId' | 'store'>;
}

/**
 * The workers of one host, run and stopped together: `shared` polls the shared queue
 * (workflows, inference, compaction, and every activity of threads without a host pin),
 * `host` polls the host's own queue (the workspace activities of the threads pinned here).
 * When either stops (a shutdown, a fatal error), the other is shut down too.
 */
export class HostWorkers {
  constructor(
    readonly hostId: string,
    readonly shared: Worker,
    readonly host: Worker,
    /** The MCP servers the workers started: stopped when the workers have stopped. */
    private readonly mcpPool?: McpClientPool,
  ) {}

  /** The host's own task queue. */
  get hostTaskQueue(): string {
    return this.host.options.taskQueue;
  }

  /** Runs both until both have stopped; rejects with the first failure. */
  async run(): Promise<void> {
    const stopOther = (other: Worker) => () => {
      if (other.getState() === 'RUNNING') other.shutdown();
    };
    const results = await Promise.allSettled([
      this.shared.run().finally(stopOther(this.host)),
      this.host.run().finally(stopOther(this.shared)),
    ]);
    await this.mcpPool?.closeAll();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Starts the graceful shutdown of both (those still running). */
  shutdown(): void {
    for (const worker of [this.shared, this.host]) if (worker.getState() === 'RUNNING') worker.shutdown();
  }

  /** FAILED when either failed, RUNNING while both run, else the shared worker's state. */
  getState(): State {
    const states = [this.shared.getState(), this.host.getState()];
    if (states.includes('FAILED')) return 'FAILED';
    if (states.every((s) => s === 'RUNNING')) return 'RUNNING';
    if (states.every((s) => s === 'STOPPED')) return 'STOPPED';
    return states[0] === 'RUNNING' ? states[1] : states[0];
  }
}

/** The identity a host's workers report to Temporal (shown in history and poller lists). */
export function hostWorkerIdentity(hostId: string): string {
  return `${process.pid}@${os.hostname()} host:${hostId}`;
}

/**
 * Creates (but does not run) the two workers of host `hostId` on one connection: see
 * {@link HostWorkers}.
 */
export async function createHostWorkers(options: HostWorkerOptions): Promise<HostWorkers> {
  const identity = hostWorkerIdentity(options.hostId);
  const tuning: Partial<WorkerOptions> = { identity, ...options.tuning };
  const failover = createFailoverActivities({
    workspaceRoot: path.join(os.tmpdir(), 'unroll-workspaces'),
    workspaceRootConfigured: false,
    livenessWindowMs: DEFAULT_HOST_LIVENESS_WINDOW_S * 1000,
    // The checkpoint engine writes the checkpoint's files; the host's shadow repositories are its cache.
    restore: async ({ store, threadId, checkpointId, target }) => {
      await checkoutCheckpoint({ store, threadId, root: options.deps.checkpointRoot ?? path.join(os.tmpdir(), `unroll-checkpoints-${os.userInfo().uid}`) }, checkpointId, target);
    },
    ...options.failover,
    hostId: options.hostId,
    store: options.deps.store,
  });
  const shared = await createUnrollWorker({ ...options, tuning, extraActivities: { ...options.extraActivities, ...failover } });
  const activities = createActivities(options.deps);
  const host = await Worker.create({
    ...commonOptions(options),
    taskQueue: hostTaskQueue(options.taskQueue, options.hostId),
    activities: workspaceActivities(activities),
    identity,
  });
  return new HostWorkers(options.hostId, shared, host, options.deps.mcpPool ?? processMcpPool);
}
