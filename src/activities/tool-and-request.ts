/**
 * `runToolAndInfer`: a step's one tool call and, as soon as its output is recorded, the
 * next model request, in one activity.
 *
 * Why: with one activity for the call and one for the request, every step of the agent
 * loop went through the server twice (the call's completion, a workflow task that
 * schedules the request, the request's completion, a workflow task that schedules the
 * next call). A step whose call needs nothing from the workflow between the call and the
 * request (one call, no input waiting, no continue-as-new due; the turn decides) now goes
 * through once: about half the engine's floor per step (bench/results/overhead.md, the
 * one-activity floor).
 *
 * What does not change:
 * - The call runs exactly as `runTool` runs it, markers included: a retry of this
 *   activity (a crash, a timeout) finds the call's recorded result and does not run it
 *   again, then sends the request.
 * - No request when the call's output takes the context over the thread's
 *   auto-compaction limit (the turn's own estimate): the turn compacts first, as before.
 * - The request is `runInference` itself, with the same input the turn would have given
 *   it (the call's output appended to `next.head`), so the response, its node and the
 *   worker's cache of received responses are the same. It is one attempt: if it fails
 *   (a 429, an unreachable provider, a context overflow), this activity still completes
 *   with the call's result and the failure. A failure `runInference` would not retry (a
 *   rejected request, a context overflow) is then the step's answer, handled as if
 *   `runInference` had failed so; after any other, the turn asks again with
 *   `runInference`'s own retry policy, after the Retry-After the provider gave.
 * - An interrupt during the request: the call's result is returned (the turn waits for
 *   this activity's end, see `toolOptions`), so the transcript records what the call did,
 *   not that it was aborted.
 * - A call that ran longer than {@link CHAIN_WITHIN_MS} leaves the request to the turn.
 *   Next to such a call, one more trip through the server is noise; and a steering
 *   message sent while it ran (more likely the longer it runs) then goes with the next
 *   request, instead of waiting for the answer to a request made without it, which the
 *   turn would not use.
 * - Progress: when the request is still running {@link ANNOUNCE_AFTER_MS} after the call
 *   finished, the activity signals the call's result to its turn (`toolResultSignal`), so
 *   followers see the call complete at once with a real model; with a fast one (the
 *   benchmarks' scripted server) the response comes first and no signal is sent.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { needsCompaction, tokensOfBytes } from '../workflows/decisions';
import { toolResultSignal } from '../workflows/definitions';
import { currentActivityEnv } from './activity-context';
import type { InferenceInput, InferenceResult, RunToolAndInferInput, RunToolAndInferResult, RunToolInput, RunToolResult, ToolResultAnnouncement } from './types';

/** How long the request may run after the call finished before the turn is told the call's result. */
export const ANNOUNCE_AFTER_MS = 200;

/** A call that ran longer than this is not followed by the request here (see the module comment). */
export const CHAIN_WITHIN_MS = 1_000;

/** The two activities it chains (the worker's own). */
export interface ToolAndRequestDeps {
  readonly runTool: (input: RunToolInput) => Promise<RunToolResult>;
  readonly runInference: (input: InferenceInput) => Promise<InferenceResult>;
  /** Tells the turn a call finished (default: a signal through the worker's client). */
  readonly announce?: (announcement: ToolResultAnnouncement) => Promise<void>;
}

/** Creates `runToolAndInfer`. */
export function createToolAndRequestActivities(deps: ToolAndRequestDeps) {
  return {
    /** Runs the call, then the next request; see the module comment. */
    async runToolAndInfer(input: RunToolAndInferInput): Promise<RunToolAndInferResult> {
      const { settings, next, ...call } = input;
      const began = Date.now();
      const tool = await deps.runTool(call);
      const env = currentActivityEnv();
      if (env.signal.aborted || Date.now() - began > CHAIN_WITHIN_MS) return { tool, next: null };
      // The turn would compact before this request (the same estimate it makes): leave it to the turn.
      if (needsCompaction(next.contextTokens + tokensOfBytes(tool.outputBytes), settings.context)) return { tool, next: null };
      const announce = deps.announce ?? signalOwnTurn;
      const timer = setTimeout(() => void announce({ step: input.step, result: tool }).catch(() => undefined), ANNOUNCE_AFTER_MS);
      try {
        const response = await deps.runInference({ threadId: input.threadId, turn: input.turn, step: next.step, head: next.head, append: [tool.outputHash], settings });
        return { tool, next: response };
      } catch (err) {
        if (env.signal.aborted) return { tool, next: null };
        return { tool, next: null, nextFailure: describeFailure(err) };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Signals the running activity's own workflow (the turn) through the worker's client. */
async function signalOwnTurn(announcement: ToolResultAnnouncement): Promise<void> {
  const ctx = Context.current();
  const execution = ctx.info.workflowExecution;
  if (!execution) return;
  const { workflowId, runId } = execution;
  await ctx.client.workflow.getHandle(workflowId, runId).signal(toolResultSignal, announcement);
}

function describeFailure(err: unknown): NonNullable<RunToolAndInferResult['nextFailure']> {
  if (!(err instanceof ApplicationFailure)) return { message: err instanceof Error ? err.message : String(err) };
  const delay = err.nextRetryDelay != null ? msToNumber(err.nextRetryDelay) : undefined;
  return {
    message: err.message,
    ...(err.type ? { type: err.type } : {}),
    ...(err.nonRetryable ? { nonRetryable: true } : {}),
    ...(delay !== undefined ? { retryAfterMs: delay } : {}),
  };
}
