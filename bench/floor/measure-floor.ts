/**
 * One measurement of the engine floor on a running server, with the server's own
 * metrics around it: one session alone (per-step latency) and a burst of sessions at
 * once (throughput), each between two scrapes of the server's Prometheus endpoint.
 */
import type { Client } from '@temporalio/client';
import { histogramMeanMs, metricsDelta, scrapeMetrics, total, type MetricSamples } from '../server-metrics';
import { runFloor, type FloorWorker } from './floor-worker';

/** What {@link measureFloor} measured. */
export interface FloorMeasurement {
  /** One floor workflow alone: wall time per step (two empty activities). */
  readonly msPerStep: number;
  /** A new session: start to result of a one-step floor workflow (its first workflow task goes through the task queue's partitions), mean of 10 in a row. */
  readonly newSessionMs: number;
  /** Mean schedule-to-start of workflow tasks on the normal (not sticky) queue during the burst: a new session's first task. */
  readonly burstFirstTaskMs: number;
  /** `burstSessions` floor workflows at once: steps of all of them per second of wall time. */
  readonly burstStepsPerSecond: number;
  /** Mean time from a workflow task being due to the transfer queue reading it (task_latency_load), alone / in the burst. */
  readonly workflowTaskLoadMs: number;
  readonly burstWorkflowTaskLoadMs: number;
  /** Activities the server dispatched through a transfer task and matching (not eagerly), per step alone. */
  readonly activityTransferTasksPerStep: number;
  /** Tasks and polls forwarded between task-queue partitions during the burst. */
  readonly burstForwarded: number;
  /** Mean load latency of visibility tasks during the burst. */
  readonly burstVisibilityLoadMs: number;
  /** Mean persistence latency of UpdateWorkflowExecution alone (the write every workflow and activity completion makes). */
  readonly updateExecutionMs: number;
  /** Mean wait for the shard's lock during the burst (semaphore_latency ShardInfo): what more shards would spread. */
  readonly burstShardLockMs: number;
}

/** Options of {@link measureFloor}. */
export interface MeasureFloorOptions {
  readonly client: Client;
  readonly worker: FloorWorker;
  /** The server's Prometheus endpoint, `http://host:port/metrics`. */
  readonly metricsUrl: string;
  readonly namespace: string;
  /** Steps of the lone session (default 100). */
  readonly steps?: number;
  /** Sessions of the burst (default 20), each `burstSteps` steps (default 20). */
  readonly burstSessions?: number;
  readonly burstSteps?: number;
}

const NEW_SESSIONS = 10;
const WORKFLOW_TASK = { task_type: 'TransferActiveTaskWorkflowTask' };

/** Runs the lone session and then the burst; see {@link FloorMeasurement}. */
export async function measureFloor(options: MeasureFloorOptions): Promise<FloorMeasurement> {
  const steps = options.steps ?? 100;
  const burstSessions = options.burstSessions ?? 20;
  const burstSteps = options.burstSteps ?? 20;
  const ns = { namespace: options.namespace };

  const alone = await between(options.metricsUrl, () => runFloor(options.client, options.worker, steps));
  let newSessionTotal = 0;
  for (let i = 0; i < NEW_SESSIONS; i++) newSessionTotal += await runFloor(options.client, options.worker, 1);
  const burst = await between(options.metricsUrl, () => runFloor(options.client, options.worker, burstSteps, burstSessions));
  return {
    msPerStep: alone.ms / steps,
    newSessionMs: newSessionTotal / NEW_SESSIONS,
    burstFirstTaskMs: firstTaskMs(burst.delta, options.namespace),
    burstStepsPerSecond: (burstSessions * burstSteps * 1000) / burst.ms,
    workflowTaskLoadMs: histogramMeanMs(alone.delta, 'task_latency_load', { ...ns, ...WORKFLOW_TASK }).meanMs,
    burstWorkflowTaskLoadMs: histogramMeanMs(burst.delta, 'task_latency_load', { ...ns, ...WORKFLOW_TASK }).meanMs,
    activityTransferTasksPerStep: histogramMeanMs(alone.delta, 'task_latency_load', { ...ns, task_type: 'TransferActiveTaskActivity' }).count / steps,
    burstForwarded: total(burst.delta, 'forwarded', { ...ns, service_name: 'matching' }),
    burstVisibilityLoadMs: visibilityLoadMs(burst.delta, options.namespace),
    updateExecutionMs: histogramMeanMs(alone.delta, 'persistence_latency', { ...ns, operation: 'UpdateWorkflowExecution', service_name: 'history' }).meanMs,
    burstShardLockMs: histogramMeanMs(burst.delta, 'semaphore_latency', { operation: 'ShardInfo' }).meanMs,
  };
}

function firstTaskMs(delta: MetricSamples, namespace: string): number {
  let count = 0;
  let sum = 0;
  for (const [key, value] of delta) {
    if (!key.includes(`namespace="${namespace}"`) || !key.includes('task_type="Workflow"') || key.includes('partition="__sticky__"')) continue;
    if (key.startsWith('task_schedule_to_start_latency_count{')) count += value;
    if (key.startsWith('task_schedule_to_start_latency_sum{')) sum += value;
  }
  return count > 0 ? (sum / count) * 1000 : 0;
}

function visibilityLoadMs(delta: MetricSamples, namespace: string): number {
  let count = 0;
  let sum = 0;
  for (const [key, value] of delta) {
    if (!key.includes(`namespace="${namespace}"`) || !key.includes('task_type="VisibilityTask')) continue;
    if (key.startsWith('task_latency_load_count{')) count += value;
    if (key.startsWith('task_latency_load_sum{')) sum += value;
  }
  return count > 0 ? (sum / count) * 1000 : 0;
}

async function between(metricsUrl: string, work: () => Promise<number>): Promise<{ ms: number; delta: MetricSamples }> {
  const before = await scrapeMetrics(metricsUrl);
  const ms = await work();
  // Metrics are recorded when a task is acked, a moment after the workflow completes.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { ms, delta: metricsDelta(before, await scrapeMetrics(metricsUrl)) };
}
