/**
 * The "stuck without a message" check. A turn the user waits for must, at every moment,
 * either be finished (completed, or failed/interrupted with a message) or be explainable:
 * Temporal shows a pending activity whose last failure says why it waits ("store write
 * failed: no space left on device; retrying …"). A turn that is still running at its
 * deadline with no such failure is stuck without a message to the user: it would spin
 * silently, as store faults once made turns do.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { TurnResult } from '../../src/workflows/definitions';
import type { TurnWorkflow } from '../../src/workflows';

/** Where an unfinished turn stands at one moment. */
export type TurnWait =
  | { readonly state: 'closed' }
  /** Running, and a pending activity's last failure says why (`reason`). */
  | { readonly state: 'waiting'; readonly reason: string }
  /** Running with nothing that explains the wait (or not even accepted). */
  | { readonly state: 'silent'; readonly reason: string };

/** How a watched turn ended. */
export type TurnEnd = TurnResult['status'] | 'workflow-failed' | 'waiting' | 'stuck';

/** What {@link watchTurn} saw. */
export interface TurnWatch {
  readonly workflowId: string;
  /** `waiting`/`stuck`: still running at the deadline, with or without an explanation. */
  readonly end: TurnEnd;
  /** The user's message: the error of a failed turn, the failure of a failed workflow, the reason of a wait. */
  readonly message: string | null;
  /** The error type of a failed turn. */
  readonly errorType: string | null;
  /** The turn's result when it returned one. */
  readonly result: TurnResult | null;
  /** Every distinct "why it waits" seen while it ran (activity: last failure), in order. */
  readonly reasonsSeen: readonly string[];
}

/** True when `watch` ends the turn without a message to the user (see the module comment). */
export function stuckWithoutMessage(watch: Pick<TurnWatch, 'end'>): boolean {
  return watch.end === 'stuck';
}

/**
 * Describes the turn workflow `workflowId` once: closed, running with an explained wait,
 * or running silently. Errors of the describe call itself (server restarting) count as
 * silent, with the error as the reason.
 */
export async function turnWait(client: Client, workflowId: string): Promise<TurnWait> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    if (description.status.name !== 'RUNNING') return { state: 'closed' };
    for (const activity of description.raw.pendingActivities ?? []) {
      const failure = activity.lastFailure?.message;
      if (failure) return { state: 'waiting', reason: `${activity.activityType?.name ?? 'activity'} (attempt ${activity.attempt ?? 1}): ${failure}` };
    }
    return { state: 'silent', reason: 'running, and no pending activity has failed: nothing tells the user why it waits' };
  } catch (err) {
    return { state: 'silent', reason: `cannot describe ${workflowId}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * Watches the turn `workflowId` until it closes or `deadlineMs` passes, collecting the
 * reasons Temporal gives for its waits, and reports how it ended. `onWait` sees every
 * explained wait as it is observed. Never throws for the turn's own failure.
 */
export async function watchTurn(
  client: Client,
  workflowId: string,
  options: { deadlineMs: number; pollMs?: number; onWait?: (reason: string) => void },
): Promise<TurnWatch> {
  const deadline = Date.now() + options.deadlineMs;
  const reasonsSeen: string[] = [];
  const base = { workflowId, reasonsSeen };
  for (;;) {
    const wait = await turnWait(client, workflowId);
    if (wait.state === 'waiting') {
      if (!reasonsSeen.includes(wait.reason)) reasonsSeen.push(wait.reason);
      options.onWait?.(wait.reason);
    }
    if (wait.state === 'closed') return { ...base, ...(await outcomeOf(client, workflowId)) };
    if (Date.now() > deadline) {
      return wait.state === 'waiting'
        ? { ...base, end: 'waiting', message: wait.reason, errorType: null, result: null }
        : { ...base, end: 'stuck', message: null, errorType: null, result: null };
    }
    await sleep(options.pollMs ?? 200);
  }
}

async function outcomeOf(client: Client, workflowId: string): Promise<Omit<TurnWatch, 'workflowId' | 'reasonsSeen'>> {
  try {
    const result = await client.workflow.getHandle<typeof TurnWorkflow>(workflowId).result();
    return { end: result.status, message: result.error?.message ?? null, errorType: result.error?.type ?? null, result };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    // The deepest cause is the activity's own message (e.g. the store's).
    let cause: Error | undefined = err;
    while (cause && (cause as { cause?: Error }).cause) cause = (cause as { cause?: Error }).cause;
    return { end: 'workflow-failed', message: cause?.message ?? err.message, errorType: null, result: null };
  }
}
