/**
 * Driving one session of a chaos run through its turns as a client would, but tolerant
 * of the faults the run injects: every call to Temporal is retried until the session's
 * deadline (the server may be restarting), updates carry ids so a retried submit is
 * deduplicated, and a turn's result is awaited again after a dropped long poll.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WithStartWorkflowOperation, WorkflowFailedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { ActivityTimings, SessionSettings } from '../../src/config/settings';
import { sessionWorkflowId } from '../../src/shared/ids';
import { submitInputUpdate, type SubmitInputResult, type TurnResult } from '../../src/workflows/definitions';
import type { SessionWorkflow, TurnWorkflow } from '../../src/workflows';
import { SessionDeadlineError } from './errors';
import type { SessionPlan } from './plan';
import { turnWait, type TurnWait } from './watch';

/**
 * Short timings so a killed worker's activity is retried within seconds: heartbeats
 * time out after 2 s, a stream idle for 3 s is abandoned, retries back off to 2 s.
 */
export const CHAOS_TIMINGS: ActivityTimings = {
  inferenceStartToCloseMs: 120_000,
  inferenceHeartbeatMs: 2_000,
  streamIdleMs: 3_000,
  toolHeartbeatMs: 2_000,
  toolGraceMs: 10_000,
  retryInitialMs: 200,
  retryMaxMs: 2_000,
};

/**
 * The settings of a chaos thread: the scripted model, no reasoning settings, short
 * timings, and a context window far above what the script fills (no compaction: a
 * compaction would be a prefix break the protocol check must not have to excuse).
 */
export function chaosSettings(workspace: string, modelUrl: string, taskQueue: string): SessionSettings {
  return {
    cwd: workspace,
    model: 'chaos-model',
    provider: { name: 'chaos', baseUrl: modelUrl, envKey: 'OPENAI_API_KEY' },
    reasoningEffort: null,
    reasoningSummary: 'auto',
    approvalPolicy: 'never',
    sandboxMode: 'danger-full-access',
    shellTimeoutMs: 10_000,
    toolTaskQueue: taskQueue,
    timings: CHAOS_TIMINGS,
    context: { windowTokens: 272_000, autoCompactTokens: 244_800, compaction: 'local', recentUserMessageTokens: 20_000, stepsPerRun: null },
  };
}

/** How one turn ended. */
export interface TurnOutcome {
  readonly turn: number;
  readonly status: TurnResult['status'] | 'workflow-failed';
  readonly steps: number;
  readonly head: string | null;
  readonly error: string | null;
}

/** What driving a session produced. */
export interface DriveOutcome {
  readonly started: boolean;
  readonly turns: TurnOutcome[];
  /** The head after the last turn that returned one. */
  readonly head: string | null;
  /** Why the session stopped early, if it did. */
  readonly error: string | null;
  /**
   * When the deadline passed: where the unfinished turn stood (waiting with a reason
   * Temporal shows, or silent: stuck without a message to the user). Null otherwise.
   */
  readonly wait: TurnWait | null;
}

/** What {@link driveSession} needs. */
export interface DriveOptions {
  readonly client: Client;
  readonly plan: SessionPlan;
  readonly threadId: string;
  readonly taskQueue: string;
  readonly settings: SessionSettings;
  readonly deadlineMs: number;
}

/** Runs every turn of `plan` on thread `threadId`, one after another. Never throws. */
export async function driveSession(options: DriveOptions): Promise<DriveOutcome> {
  const { client, plan, threadId } = options;
  const deadline = Date.now() + options.deadlineMs;
  const turns: TurnOutcome[] = [];
  let started = false;
  let head: string | null = null;
  let awaiting: string | null = null;
  try {
    for (const [i, turn] of plan.turns.entries()) {
      awaiting = null;
      const submitted: SubmitInputResult = await persist(`turn ${i + 1} to be accepted`, deadline, options, () =>
        i === 0 ? startThread(options, turn.prompt) : submitNext(client, threadId, i + 1, turn.prompt),
      );
      started = true;
      awaiting = submitted.turnWorkflowId;
      const outcome = await awaitTurn(client, submitted.turnWorkflowId, i + 1, deadline, options);
      turns.push(outcome);
      head = outcome.head ?? head;
      if (outcome.status !== 'completed') return { started, turns, head, error: `turn ${i + 1} ended ${outcome.status}: ${outcome.error ?? ''}`, wait: null };
    }
    return { started, turns, head, error: null, wait: null };
  } catch (err) {
    let wait: TurnWait | null = null;
    if (err instanceof SessionDeadlineError) {
      wait = awaiting ? await turnWait(client, awaiting) : { state: 'silent', reason: `turn ${turns.length + 1} was never accepted` };
    }
    return { started, turns, head, error: err instanceof Error ? err.message : String(err), wait };
  }
}

function startThread(options: DriveOptions, text: string): Promise<SubmitInputResult> {
  const start = new WithStartWorkflowOperation<typeof SessionWorkflow>('SessionWorkflow', {
    workflowId: sessionWorkflowId(options.threadId),
    taskQueue: options.taskQueue,
    args: [{ threadId: options.threadId, settings: options.settings }],
    // A retried start after a lost answer finds the thread it created.
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return options.client.workflow.executeUpdateWithStart(submitInputUpdate, {
    args: [{ text }],
    updateId: `${options.threadId}-turn-1`,
    startWorkflowOperation: start,
  });
}

function submitNext(client: Client, threadId: string, turn: number, text: string): Promise<SubmitInputResult> {
  const handle = client.workflow.getHandle<typeof SessionWorkflow>(sessionWorkflowId(threadId));
  return handle.executeUpdate(submitInputUpdate, { args: [{ text }], updateId: `${threadId}-turn-${turn}` });
}

async function awaitTurn(client: Client, workflowId: string, turn: number, deadline: number, options: DriveOptions): Promise<TurnOutcome> {
  try {
    const result = await persist(`turn ${turn} to finish`, deadline, options, () => client.workflow.getHandle<typeof TurnWorkflow>(workflowId).result());
    return { turn, status: result.status, steps: result.steps, head: result.head, error: result.error ? `${result.error.type}: ${result.error.message}` : null };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    return { turn, status: 'workflow-failed', steps: 0, head: null, error: err.cause?.message ?? err.message };
  }
}

/**
 * Calls `fn` until it succeeds or the deadline passes. Failures that a retry cannot
 * change (a failed workflow, a rejected update) are thrown at once.
 */
async function persist<T>(what: string, deadline: number, options: DriveOptions, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    const remaining = deadline - Date.now();
    const late = () => new SessionDeadlineError(options.plan.name, what, options.deadlineMs);
    if (remaining <= 0) throw late();
    try {
      return await withTimeout(fn(), remaining, late);
    } catch (err) {
      if (err instanceof WorkflowFailedError || err instanceof WorkflowUpdateFailedError || err instanceof SessionDeadlineError) throw err;
      await sleep(500);
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
