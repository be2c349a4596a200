/**
 * Replaying a thread's recorded histories against workflow code with Temporal's
 * replayer (`Worker.runReplayHistories`): each workflow run is re-executed from its
 * history, and any command the code issues that the history does not have (another
 * activity, a missing timer, …) is a non-determinism. This is the check that a change
 * to workflow code does not break threads recorded with the old code.
 */
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import type { ThreadHistories } from './thread-histories';

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
  /** The history event where the code diverged, when the replayer names it. */
  readonly eventId: number | null;
  /** The replayer's message: what the history has and what the code did instead. */
  readonly message: string | null;
}

/** The event id a replayer message names (`event 5`, `EventId: 5`, `event_id: 5`, `id: 5`). */
export function eventIdInMessage(message: string): number | null {
  const match = /event[ _]?id[:= ]+(\d+)|HistoryEvent\(id: (\d+)|event (\d+)|\bid: (\d+)/i.exec(message);
  const found = match?.slice(1).find((g) => g !== undefined);
  return found === undefined ? null : Number(found);
}

/** Replays every run of the thread, in order, against `code`. */
export async function replayThread(histories: ThreadHistories, code: WorkflowCode): Promise<ReplayOutcome[]> {
  const options: ReplayWorkerOptions = {
    ...('workflowBundlePath' in code ? { workflowBundle: { codePath: code.workflowBundlePath } } : { workflowsPath: code.workflowsPath }),
    replayName: `unroll-replay-${histories.threadId}`,
  };
  const outcomes: ReplayOutcome[] = [];
  const runs = histories.workflows;
  const results = Worker.runReplayHistories(options, runs.map((w) => ({ workflowId: w.workflowId, history: w.history })));
  for await (const result of results) {
    const run = runs[outcomes.length];
    const error = result.error;
    const message = error ? error.message : null;
    outcomes.push({
      workflowId: run.workflowId,
      runId: run.runId,
      workflowType: run.workflowType,
      ok: !error,
      problem: !error ? null : error instanceof DeterminismViolationError ? 'nondeterminism' : 'error',
      eventId: message ? eventIdInMessage(message) : null,
      message,
    });
  }
  return outcomes;
}
