/**
 * The workflow side of `unroll rewind`: checking the request, and resetting the thread's
 * workspace to a checkpoint on its pinned host (the activity that does it is in
 * src/activities/checkpoints.ts). The session runs a rewind between turns, in order with
 * the turns and compactions it queues, and then sets its head, context and checkpoint.
 */
import { ActivityFailure, ApplicationFailure, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DEFAULT_CHECKPOINT_SETTINGS } from '../checkpoints/types';
import type { SessionSettings } from '../config/settings';
import { workspaceTaskQueue } from '../shared/hosts';
import { checkpointOptions } from './activity-options';
import type { RewindArgs, RewindResult } from './definitions';

const HASH = /^[0-9a-f]{64}$/;
const STEP = /^\d+\.\d+$/;

/** Why the rewind arguments cannot be used, or null. Pure. */
export function rewindArgsProblem(args: unknown): string | null {
  const a = (args ?? {}) as Partial<Record<keyof RewindArgs, unknown>>;
  if (typeof a.to !== 'string' || !STEP.test(a.to)) return `rewind needs the step as <turn>.<step>, got ${JSON.stringify(a.to)}`;
  if (typeof a.checkpoint !== 'string' || !HASH.test(a.checkpoint)) return `rewind needs the checkpoint id of step ${a.to}, got ${JSON.stringify(a.checkpoint)}`;
  if (a.head !== null && (typeof a.head !== 'string' || !HASH.test(a.head))) return `rewind needs the transcript head of step ${a.to}, got ${JSON.stringify(a.head)}`;
  if (typeof a.context !== 'object' || a.context === null) return `rewind needs the context state of step ${a.to}`;
  if (typeof a.contextTokens !== 'number' || !(a.contextTokens >= 0)) return `rewind needs the token estimate of step ${a.to}`;
  return null;
}

/**
 * Resets the workspace on the pinned host. A reset that fails (the checkpoint cannot be
 * read, the workspace cannot be written) fails the rewind only, as a non-retryable
 * `RewindFailed` failure naming why; the session keeps its head and checkpoint.
 */
export async function resetThreadWorkspace(threadId: string, settings: SessionSettings, args: RewindArgs, nextTurn: number): Promise<Omit<RewindResult, 'nextTurn'> | ApplicationFailure> {
  const options = checkpointOptions(settings.timings, workspaceTaskQueue(settings));
  try {
    const done = await proxyActivities<Activities>(options).restoreWorkspace.executeWithOptions({ ...options, summary: `rewind to ${args.to}` }, [
      { threadId, cwd: settings.cwd, checkpoint: args.checkpoint, settings: settings.checkpoints ?? DEFAULT_CHECKPOINT_SETTINGS, to: args.to, beforeTurn: nextTurn, head: args.head },
    ]);
    return { to: args.to, checkpoint: args.checkpoint, head: args.head, files: done.files };
  } catch (err) {
    if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
    return ApplicationFailure.create({
      type: 'RewindFailed',
      message: `the workspace could not be reset to step ${args.to}, the thread's transcript and checkpoint are unchanged: ${err.cause?.message ?? err.message}`,
      nonRetryable: true,
    });
  }
}
