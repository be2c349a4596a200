/**
 * Activity option presets, derived from the thread's timings. Named here once so that
 * timeouts are not literals scattered through the workflows.
 */
import { ActivityCancellationType, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import type { ActivityTimings } from '../config/settings';
import { NON_RETRYABLE_INFERENCE_FAILURES } from '../shared/failure-types';

/** Model inference: retried forever on transient errors (an hour of 429s is survivable). */
export function inferenceOptions(t: ActivityTimings): ActivityOptions {
  return {
    startToCloseTimeout: t.inferenceStartToCloseMs,
    heartbeatTimeout: t.inferenceHeartbeatMs,
    retry: {
      initialInterval: t.retryInitialMs,
      backoffCoefficient: 2,
      maximumInterval: t.retryMaxMs,
      nonRetryableErrorTypes: [...NON_RETRYABLE_INFERENCE_FAILURES],
    },
  };
}

/** Compaction: one model request (or a few, when the history must be trimmed to fit). */
export function compactionOptions(t: ActivityTimings): ActivityOptions {
  return { ...inferenceOptions(t), startToCloseTimeout: t.inferenceStartToCloseMs * 2 };
}

/** Store bookkeeping: quick, idempotent, retried forever. */
export function storeOptions(t: ActivityTimings): ActivityOptions {
  return {
    startToCloseTimeout: 60_000,
    retry: { initialInterval: t.retryInitialMs, backoffCoefficient: 2, maximumInterval: t.retryMaxMs },
  };
}

/**
 * Storing the user's text from the session, as a local activity: its input (the text)
 * is not written to history, only its result (the hash). A few quick attempts; if the
 * store still fails, the session passes the text inline and the turn deals with the store.
 */
export function userTextStoreOptions(t: ActivityTimings): LocalActivityOptions {
  return {
    startToCloseTimeout: 30_000,
    retry: { initialInterval: t.retryInitialMs, backoffCoefficient: 2, maximumInterval: t.retryMaxMs, maximumAttempts: 3 },
  };
}

/** Attempts a tool activity gets before the workflow gives the model an error output. */
export const TOOL_MAX_ATTEMPTS = 5;

/**
 * A tool call: the timeout covers the command's own timeout plus a grace period; a
 * retry after a crash is safe because the activity itself refuses to repeat side effects.
 */
export function toolOptions(t: ActivityTimings, timeoutMs: number, taskQueue: string): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout: timeoutMs + t.toolGraceMs,
    heartbeatTimeout: t.toolHeartbeatMs,
    // On interrupt, wait until the tool has killed its processes before recording the turn.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: t.retryInitialMs, backoffCoefficient: 2, maximumInterval: t.retryMaxMs, maximumAttempts: TOOL_MAX_ATTEMPTS },
  };
}

/** Attempts a checkpoint gets before the step is recorded without one. */
export const CHECKPOINT_MAX_ATTEMPTS = 3;

/**
 * A workspace checkpoint, on the pinned host's queue: a large first snapshot may take
 * minutes (it heartbeats); a few attempts, then the turn goes on without it.
 */
export function checkpointOptions(t: ActivityTimings, taskQueue: string): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout: 30 * 60_000,
    heartbeatTimeout: t.toolHeartbeatMs,
    retry: { initialInterval: t.retryInitialMs, backoffCoefficient: 2, maximumInterval: t.retryMaxMs, maximumAttempts: CHECKPOINT_MAX_ATTEMPTS },
  };
}

/**
 * Listing a thread's MCP tools on its host: each server's start is bounded by its own
 * startup timeout and the activity heartbeats, so the start-to-close timeout is only a
 * backstop; a few attempts, then the thread goes on without MCP tools.
 */
export function mcpListingOptions(t: ActivityTimings, taskQueue: string): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout: 10 * 60_000,
    heartbeatTimeout: t.toolHeartbeatMs,
    retry: { initialInterval: t.retryInitialMs, backoffCoefficient: 2, maximumInterval: t.retryMaxMs, maximumAttempts: 3 },
  };
}
