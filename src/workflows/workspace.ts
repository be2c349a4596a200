/**
 * Where a thread's activities run (src/shared/hosts.ts): the activities that read the
 * workspace go to the pinned host's queue, inference and compaction stay on the shared
 * queue (the workflow's own). A thread without a pin (recorded before pins existed) runs
 * everything as it did: its tools on its recorded `toolTaskQueue`, the rest on the
 * workflow's queue, and its compaction reads the workspace itself. The choice depends on
 * the recorded settings only, so recorded histories replay unchanged.
 *
 * Host failover ({@link onPinnedHost}): a workspace activity of a thread with
 * `failoverAfter` > 0 may wait that long for a worker on the pinned host (Temporal's
 * schedule-to-start timeout, which applies to every attempt: a host that dies during a
 * tool call fails that attempt by its heartbeat timeout, and the retry then waits on the
 * dead host's queue like any first attempt). When it fires, `checkHostLiveness` asks
 * Temporal whether the host still has a worker; a busy host keeps the thread and the
 * activity is scheduled there again. A lost host's thread is adopted by any live worker
 * (`adoptThread`: it restores the latest checkpoint there), re-pinned, and the activity
 * runs again on the new host, with the same input: a shell command that was running on
 * the lost host finds its `started` marker in the shared store and is reported to the
 * model as interrupted, as after a crash.
 */
import { ActivityFailure, patched, proxyActivities, TimeoutFailure, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { Activities, CompactInput, CompactResult } from '../activities';
import type { CheckpointRef, FailoverActivities, HostMove } from '../activities/failover';
import type { SessionSettings } from '../config/settings';
import { compactionOptions, storeOptions } from './activity-options';

/**
 * Patch id (see `patched()`): workspace activities of threads with a failover delay get a
 * schedule-to-start timeout and move on host loss. Histories from before never set one.
 */
export const HOST_FAILOVER = 'host-failover';

/** Options of a workspace store activity (beginTurn, readWorkspaceContext): the pinned host's queue, if any. */
export function workspaceStoreOptions(settings: SessionSettings): ActivityOptions {
  return { ...storeOptions(settings.timings), ...(settings.host ? { taskQueue: settings.host.taskQueue } : {}) };
}

/** What {@link onPinnedHost} needs from the turn: its thread's current settings, and where a move goes. */
export interface PinnedThread {
  readonly threadId: string;
  readonly turn: number;
  /** The thread's settings now (a move changes them). */
  settings(): SessionSettings;
  /** The latest checkpoint of the thread's workspace, or null when there is none. */
  latestCheckpoint(): CheckpointRef | null;
  /** Applies a move: the turn re-pins its settings and records the move. */
  moved(move: HostMove): void;
}

/** The failover delay of `settings` in ms, or 0 when the thread never moves (unpinned, disabled, recorded before failover). */
export function failoverDelayMs(settings: SessionSettings): number {
  return settings.host && settings.failoverAfter ? settings.failoverAfter * 1000 : 0;
}

/** The thread's settings after `move`: pinned to the new host, in the new cwd. */
export function relocated(settings: SessionSettings, move: Pick<HostMove, 'to' | 'cwd'>): SessionSettings {
  return { ...settings, host: move.to, toolTaskQueue: move.to.taskQueue, cwd: move.cwd };
}

/** True for the failure of an activity that no worker started within its schedule-to-start timeout. */
export function isScheduleToStartTimeout(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START';
}

/**
 * Runs a workspace activity on the thread's pinned host: `run(settings, options)` schedules
 * it with the settings and the options to use (its own options plus, with failover on,
 * the schedule-to-start timeout). On host loss the thread moves (see the module comment)
 * and `run` is called again with the new settings. Without failover it is `run` as before.
 */
export async function onPinnedHost<T>(thread: PinnedThread, run: (settings: SessionSettings, extra: ActivityOptions) => Promise<T>): Promise<T> {
  for (;;) {
    const settings = thread.settings();
    const delayMs = failoverDelayMs(settings);
    if (delayMs === 0 || !patched(HOST_FAILOVER)) return run(settings, {});
    try {
      return await run(settings, { scheduleToStartTimeout: delayMs });
    } catch (err) {
      if (!isScheduleToStartTimeout(err)) throw err;
    }
    await failOver(thread, settings);
  }
}

/** Confirms that the pinned host is gone and, if so, moves the thread to a live worker. */
async function failOver(thread: PinnedThread, settings: SessionSettings): Promise<void> {
  const host = settings.host!;
  const shared = proxyActivities<FailoverActivities>(storeOptions(settings.timings));
  const sharedTaskQueue = workflowInfo().taskQueue;
  const liveness = await shared.checkHostLiveness.executeWithOptions({ ...storeOptions(settings.timings), summary: `failover: is host ${host.id} alive?` }, [
    { host, sharedTaskQueue },
  ]);
  // Busy, not lost: its worker still polls. The activity waits there another round.
  if (liveness.alive) return;
  const checkpoint = thread.latestCheckpoint();
  const move = await shared.adoptThread.executeWithOptions({ ...storeOptions(settings.timings), summary: `failover: adopt the thread of lost host ${host.id}` }, [
    { threadId: thread.threadId, turn: thread.turn, settings, sharedTaskQueue, checkpoint },
  ]);
  thread.moved(move);
}

/**
 * Compacts the transcript. For a pinned thread the fresh initial context (AGENTS.md,
 * environment) is read on the pinned host first, stored, and passed by reference to the
 * compaction itself, which then runs on the shared queue, on any worker. Within a turn,
 * `pinned` lets that read fail over like the turn's other workspace activities.
 */
export async function compactOnSharedQueue(input: Omit<CompactInput, 'fresh'>, summary: string, pinned?: PinnedThread): Promise<CompactResult> {
  let settings = input.settings;
  let fresh: CompactInput['fresh'];
  if (settings.host) {
    const read = (current: SessionSettings, extra: ActivityOptions) => {
      const options = { ...workspaceStoreOptions(current), ...extra };
      return proxyActivities<Activities>(options).readWorkspaceContext.executeWithOptions({ ...options, summary: `${summary}: workspace context on host ${current.host!.id}` }, [
        { threadId: input.threadId, settings: current },
      ]);
    };
    fresh = pinned ? await onPinnedHost(pinned, read) : await read(settings, {});
    if (pinned) settings = pinned.settings();
  }
  const options = compactionOptions(settings.timings);
  const compactor = proxyActivities<Activities>(options);
  return compactor.compactTranscript.executeWithOptions({ ...options, summary }, [{ ...input, settings, ...(fresh ? { fresh } : {}) }]);
}
