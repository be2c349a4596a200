/**
 * What a running turn is waiting for, told to the user so that a turn never hangs
 * silently: a step that failed and will be retried (the provider answered 429/500, a
 * store write failed, a worker died mid-step), and a step that no worker picks up.
 *
 * The facts come from describing the turn's workflow (its pending activities and its
 * pending workflow task, as the server reports them) and, for a task nobody has taken,
 * from describing the task queue's pollers. {@link waitNotices} is the pure part: from
 * those facts to notice lines, each with a key so that one failure is told once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { parseHostTaskQueue } from '../shared/hosts';

/** A task of the turn that is pending on the server. */
export interface PendingTask {
  readonly kind: 'activity' | 'workflow-task';
  /** Activity id, or `workflow-task`. */
  readonly id: string;
  /** Activity type (e.g. `runInference`); empty for a workflow task. */
  readonly type: string;
  /** The attempt that runs now or runs next (1 for the first). */
  readonly attempt: number;
  /** True when a worker has started the current attempt. */
  readonly started: boolean;
  /** Why the previous attempt failed. */
  readonly lastFailure: string | null;
  /** When the next attempt is due (ms since the epoch), while backing off. */
  readonly nextAttemptAt: number | null;
  /** When the current attempt was scheduled (ms since the epoch). */
  readonly scheduledAt: number | null;
  readonly taskQueue: string;
  /**
   * The attempt's schedule-to-start timeout (ms): for a workspace activity of a pinned
   * thread, its failover delay (src/workflows/workspace.ts); null when none is set.
   */
  readonly failoverAfterMs?: number;
}

/** One line for the user, and the key that makes it be told once. */
export interface WaitNotice {
  readonly key: string;
  readonly message: string;
  /** For a task nobody takes: the queue whose pollers the caller should look up. */
  readonly queue?: { readonly name: string; readonly type: 'activity' | 'workflow' };
  /** For a retried model request: the retry's number (1 for the first) and why the last attempt failed. */
  readonly providerRetry?: ProviderRetry;
}

/** A model request being retried, for `exec --json`'s Codex-style `Reconnecting... n/…` events. */
export interface ProviderRetry {
  readonly retry: number;
  readonly reason: string;
  /** Seconds until the next attempt; null when it runs now. */
  readonly nextInSeconds: number | null;
}

/** Activities that are a request to the model provider. */
const PROVIDER_ACTIVITIES = new Set(['runInference', 'compactTranscript']);

/** How often a waiting client describes the workflow it waits on (ms). */
export const DESCRIBE_EVERY_MS = 500;

/** A task due this long without a worker taking it is reported as waiting for a worker. */
export const NO_WORKER_AFTER_MS = 5_000;

type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

function millis(ts: Timestamp): number | null {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return null;
  return Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/** Milliseconds of a protobuf duration; null when absent or zero. */
function durationMs(d: { seconds?: unknown; nanos?: number | null } | null | undefined): number | null {
  if (!d) return null;
  const ms = Number(d.seconds ?? 0) * 1000 + Math.floor((d.nanos ?? 0) / 1e6);
  return ms > 0 ? ms : null;
}

const ActivityState = temporal.api.enums.v1.PendingActivityState;
const WorkflowTaskState = temporal.api.enums.v1.PendingWorkflowTaskState;

/** The pending tasks in a DescribeWorkflowExecution answer. */
export function pendingTasksOf(raw: temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse): PendingTask[] {
  const workflowQueue = raw.executionConfig?.taskQueue?.name ?? '';
  const tasks: PendingTask[] = (raw.pendingActivities ?? []).map((a) => {
    const failoverAfterMs = durationMs(a.activityOptions?.scheduleToStartTimeout);
    return {
      kind: 'activity',
      id: a.activityId ?? '',
      type: a.activityType?.name ?? '',
      attempt: a.attempt ?? 1,
      started: a.state === ActivityState.PENDING_ACTIVITY_STATE_STARTED,
      lastFailure: a.lastFailure?.message || null,
      nextAttemptAt: millis(a.nextAttemptScheduleTime),
      scheduledAt: millis(a.scheduledTime),
      taskQueue: a.activityOptions?.taskQueue?.name || workflowQueue,
      ...(failoverAfterMs !== null ? { failoverAfterMs } : {}),
    };
  });
  const wft = raw.pendingWorkflowTask;
  if (wft) {
    tasks.push({
      kind: 'workflow-task',
      id: 'workflow-task',
      type: '',
      attempt: wft.attempt ?? 1,
      started: wft.state === WorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED,
      lastFailure: null,
      nextAttemptAt: null,
      scheduledAt: millis(wft.scheduledTime),
      taskQueue: workflowQueue,
    });
  }
  return tasks;
}

const STORE_ACTIVITIES = new Set(['storeToolOutput', 'storeMessage', 'commitAppend', 'recoverTurnHead']);

/** A task as the user knows it: `inference #3`, `a tool call`, `a store write (commitAppend)`. */
export function taskLabel(task: PendingTask, step: number, workflowId = 'the workflow'): string {
  if (task.kind === 'workflow-task') return `the next workflow task of ${workflowId}`;
  if (task.type === 'runInference') return step > 0 ? `inference #${step}` : 'inference';
  if (task.type === 'runTool') return 'a tool call';
  if (task.type === 'runToolAndInfer') return step > 0 ? `a tool call, then inference #${step + 1}` : 'a tool call, then the next inference';
  if (task.type === 'compactTranscript') return 'compaction';
  // It writes the user's message, but first reads AGENTS.md and the environment on the workspace's host.
  if (task.type === 'beginTurn') return "the turn's start (beginTurn: reads the workspace, writes the user's message)";
  if (task.type === 'readWorkspaceContext') return 'reading the workspace context (AGENTS.md, environment)';
  if (task.type === 'checkpointWorkspace') return 'a workspace checkpoint';
  if (task.type === 'restoreWorkspace') return 'a workspace restore';
  if (STORE_ACTIVITIES.has(task.type)) return `a store write (${task.type})`;
  return task.type || `activity ${task.id}`;
}

/**
 * The notices for a turn's pending tasks at time `now`: one per retried attempt (with
 * why the last attempt failed and when the next one is), and one for a task that has
 * been due for {@link NO_WORKER_AFTER_MS} without a worker taking it.
 */
export function waitNotices(tasks: readonly PendingTask[], now: number, step: number, workflowId?: string): WaitNotice[] {
  const notices: WaitNotice[] = [];
  for (const task of tasks) {
    const label = taskLabel(task, step, workflowId);
    if (task.attempt > 1 && task.lastFailure) {
      const nextInSeconds = task.nextAttemptAt !== null && task.nextAttemptAt > now ? Math.ceil((task.nextAttemptAt - now) / 1000) : null;
      const wait = nextInSeconds !== null ? `next attempt in ${nextInSeconds} s` : 'retrying now';
      notices.push({
        key: `retry:${task.id}:${task.attempt}`,
        message: `retrying: ${label} failed (attempt ${task.attempt - 1}): ${task.lastFailure}; ${wait}`,
        ...(PROVIDER_ACTIVITIES.has(task.type) ? { providerRetry: { retry: task.attempt - 1, reason: task.lastFailure, nextInSeconds } } : {}),
      });
    }
    const dueSince = Math.max(task.scheduledAt ?? 0, task.nextAttemptAt ?? 0);
    // A task that fails over soon is told sooner, so the user learns of the wait before the move.
    const tellAfter = task.failoverAfterMs ? Math.min(NO_WORKER_AFTER_MS, task.failoverAfterMs / 2) : NO_WORKER_AFTER_MS;
    if (!task.started && dueSince > 0 && now - dueSince >= tellAfter && task.taskQueue) {
      notices.push({
        key: `no-worker:${task.taskQueue}:${task.id}:${task.attempt}`,
        message: `waiting for a worker on ${queueName(task.taskQueue)}: ${label} has waited ${Math.round((now - dueSince) / 1000)} s and no worker has taken it${failoverNote(task, dueSince, now)}`,
        queue: { name: task.taskQueue, type: task.kind === 'activity' ? 'activity' : 'workflow' },
      });
    }
  }
  return notices;
}

/** For a pinned host's task with a failover delay: when the thread moves if the host stays silent. */
function failoverNote(task: PendingTask, dueSince: number, now: number): string {
  const host = parseHostTaskQueue(task.taskQueue);
  if (!host || !task.failoverAfterMs) return '';
  const left = Math.max(0, Math.ceil((dueSince + task.failoverAfterMs - now) / 1000));
  return `; if host ${host.hostId} has no worker left, the thread fails over to a live host after ${task.failoverAfterMs / 1000} s of waiting (failoverAfter), in about ${left} s`;
}

/**
 * A queue as the user knows it: `host A (task queue "unroll@host:A")` for a host's own
 * queue (a pinned thread's workspace work waits for that host), else `task queue "unroll"`.
 */
export function queueName(taskQueue: string): string {
  const host = parseHostTaskQueue(taskQueue);
  return host ? `host ${host.hostId} (task queue "${taskQueue}")` : `task queue "${taskQueue}"`;
}

/** What the pollers of a task queue say, for a notice: who polled last, or that nobody polls. */
export function pollerNote(pollers: readonly { identity?: string | null; lastAccessTime?: Timestamp }[]): string {
  if (pollers.length === 0) return 'no worker polls it (start one: `unroll worker`, or `unroll resume <thread>`)';
  const last = pollers.map((p) => ({ identity: p.identity ?? '?', at: millis(p.lastAccessTime) ?? 0 })).sort((a, b) => b.at - a.at)[0];
  return `last polled by ${last.identity} at ${new Date(last.at).toISOString()}`;
}

/**
 * Watches one turn's workflow for the waits above and tells each once through
 * `notify`. `check` is called from the follow loop; it describes the workflow at most
 * every `everyMs`, and never throws (a failed describe is tried again next time).
 */
export class TurnWaits {
  private readonly told = new Set<string>();
  private lastCheck = 0;

  constructor(
    private readonly client: Client,
    private readonly notify: (message: string, notice?: WaitNotice) => void,
    private readonly options: { everyMs?: number; now?: () => number } = {},
  ) {}

  /** Describes the turn (if due) and tells what is new. Returns the describe error, if any. */
  async check(handle: WorkflowHandle, step: number): Promise<unknown> {
    const now = (this.options.now ?? Date.now)();
    if (now - this.lastCheck < (this.options.everyMs ?? DESCRIBE_EVERY_MS)) return undefined;
    this.lastCheck = now;
    try {
      const { raw } = await handle.describe();
      for (const notice of waitNotices(pendingTasksOf(raw), (this.options.now ?? Date.now)(), step, handle.workflowId)) {
        if (this.told.has(notice.key)) continue;
        this.told.add(notice.key);
        this.notify(notice.queue ? `${notice.message}; ${await this.pollers(notice.queue)}` : notice.message, notice);
      }
      return undefined;
    } catch (err) {
      return err;
    }
  }

  private async pollers(queue: NonNullable<WaitNotice['queue']>): Promise<string> {
    const { TaskQueueType } = temporal.api.enums.v1;
    try {
      const answer = await this.client.workflowService.describeTaskQueue({
        namespace: this.client.options.namespace,
        taskQueue: { name: queue.name },
        taskQueueType: queue.type === 'activity' ? TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY : TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      return pollerNote(answer.pollers ?? []);
    } catch (err) {
      return `its pollers cannot be listed (${err instanceof Error ? err.message : String(err)})`;
    }
  }
}

/**
 * Waits for `work` (a request that the workflow `workflowId` must answer, such as the
 * update that starts a turn) and meanwhile tells `notify` when no worker takes the
 * workflow's tasks, so that a client without a worker does not hang silently.
 */
export async function withWaitNotices<T>(client: Client, workflowId: string, work: Promise<T>, notify: (message: string) => void): Promise<T> {
  const waits = new TurnWaits(client, notify);
  const handle = client.workflow.getHandle(workflowId);
  const stop = new AbortController();
  const watching = (async () => {
    for (;;) {
      try {
        await sleep(DESCRIBE_EVERY_MS, undefined, { signal: stop.signal });
      } catch {
        return;
      }
      await waits.check(handle, 0);
    }
  })();
  try {
    return await work;
  } finally {
    stop.abort();
    await watching;
  }
}
