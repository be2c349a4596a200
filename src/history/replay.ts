/**
 * Replaying a thread's recorded histories against workflow code with Temporal's
 * replayer (`Worker.runReplayHistories`): each workflow run is re-executed from its
 * history, and any command the code issues that the history does not have (another
 * activity, a missing timer, …) is a non-determinism. This is the check that a change
 * to workflow code does not break threads recorded with the old code.
 */
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { eventId, type History, type HistoryEvent } from './history-events';
import type { ThreadHistories } from './thread-histories';
import { turnProgressSinks } from '../workers/turn-progress-sinks';

/** The workflow code to replay against: a prebuilt bundle, or the sources to bundle. */
export type WorkflowCode = { readonly workflowBundlePath: string } | { readonly workflowsPath: string };

/** The outcome of replaying one workflow run. */
export interface ReplayOutcome {
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  readonly ok: boolean;
  /** `nondeterminism` when the code diverged from the history; `error` for other failures. */
  readonly problem: 'nondeterminism' | 'error' | null;
  /** The history event where the code diverged (see {@link locateDivergence}). */
  readonly eventId: number | null;
  /** The replayer's finding: what the history has and what the code did instead. */
  readonly message: string | null;
  /** The replayer's full error message. */
  readonly detail: string | null;
}

/** The core's own sentence inside the SDK's wrapped message (`…message: "[TMPRL1100] …"…`). */
export function coreMessage(message: string): string {
  return /message: "((?:[^"\\]|\\.)*)"/.exec(message)?.[1] ?? message;
}

/**
 * The history event a replayer message points at: the event it names by id, or the
 * event whose activity id, activity type, child workflow id or timer id it quotes (for
 * a type, the first event of that type; the code matched everything before the first
 * divergence, so that is where it is when a command was inserted or changed).
 */
export function locateDivergence(history: History, message: string): number | null {
  const byId = /HistoryEvent\(id: (\d+)/.exec(message);
  if (byId) return Number(byId[1]);
  const events = history.events ?? [];
  const find = (predicate: (e: HistoryEvent) => boolean): number | null => {
    const event = events.find(predicate);
    return event ? eventId(event) : null;
  };
  const quoted = (pattern: RegExp): string | undefined => pattern.exec(message)?.[1];
  const activityId = quoted(/activity id of scheduled event '([^']+)'/i);
  if (activityId !== undefined) return find((e) => e.activityTaskScheduledEventAttributes?.activityId === activityId);
  const activityType = quoted(/activity type of scheduled event '([^']+)'/i);
  if (activityType !== undefined) return find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType);
  const child = quoted(/child workflow id of (?:scheduled |initiated )?event '([^']+)'/i);
  if (child !== undefined) return find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId === child);
  const timer = quoted(/timer id of (?:scheduled |started )?event '([^']+)'/i);
  if (timer !== undefined) return find((e) => e.timerStartedEventAttributes?.timerId === timer);
  return null;
}

/** Replays every run of the thread, in order, against `code`. */
export async function replayThread(histories: ThreadHistories, code: WorkflowCode): Promise<ReplayOutcome[]> {
  const options: ReplayWorkerOptions = {
    ...('workflowBundlePath' in code ? { workflowBundle: { codePath: code.workflowBundlePath } } : { workflowsPath: code.workflowsPath }),
    replayName: `unroll-replay-${histories.threadId}`,
    sinks: turnProgressSinks(),
  };
  const outcomes: ReplayOutcome[] = [];
  const runs = histories.workflows;
  const results = Worker.runReplayHistories(options, runs.map((w) => ({ workflowId: w.workflowId, history: w.history })));
  for await (const result of results) {
    const run = runs[outcomes.length];
    const error = result.error;
    const detail = error ? error.message : null;
    outcomes.push({
      workflowId: run.workflowId,
      runId: run.runId,
      workflowType: run.workflowType,
      ok: !error,
      problem: !error ? null : error instanceof DeterminismViolationError ? 'nondeterminism' : 'error',
      eventId: detail ? locateDivergence(run.history, detail) : null,
      message: detail ? coreMessage(detail) : null,
      detail,
    });
  }
  return outcomes;
}
