/**
 * TurnWorkflow: the agent loop for one turn of a thread.
 *
 * The turn starts by writing the user's message (and any context that changed) to the
 * transcript. Then it asks the model (an inference activity), and if the response has
 * tool calls it runs them (parallel-safe ones together, the rest one at a time, outputs
 * kept in call order) and asks again with the outputs appended; a response with no tool
 * call ends the turn. The workflow only ever holds the transcript's head hash and small
 * facts: every activity takes and returns references, so history stays flat however
 * large the conversation grows.
 *
 * Context: the turn keeps an estimate of the context size (the last response's usage
 * plus bytes/4 of what was appended since). Over the thread's limit it compacts: before
 * the first request, and after a response when the loop must go on. A request the
 * provider rejects as too long is answered with a compaction and one retry of the step.
 * A very long turn continues-as-new when Temporal suggests it, carrying only the head
 * and the loop state.
 *
 * Failures: a tool that fails, even after its retries, becomes an error output the model
 * sees; a request the provider rejects for good ends the turn as `failed` with the
 * provider's message, keeping everything recorded so far.
 */
import { ActivityFailure, ApplicationFailure, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities, CompactionReason, OutputRef, RunToolResult, ToolCallRef } from '../activities';
import { addUsage, ZERO_USAGE } from '../items/usage';
import { InferenceFailureType, NON_RETRYABLE_INFERENCE_FAILURES } from '../shared/failure-types';
import { compactionOptions, inferenceOptions, storeOptions, toolOptions, TOOL_MAX_ATTEMPTS } from './activity-options';
import { needsCompaction, nextStep, planToolBatches, shouldContinueAsNew, tokensOfBytes } from './decisions';
import {
  turnProgressQuery,
  type TurnError,
  type TurnEvent,
  type TurnInput,
  type TurnResult,
  type TurnStatus,
} from './definitions';

type NewEvent = TurnEvent extends infer E ? (E extends TurnEvent ? Omit<E, 'seq'> : never) : never;

/** Progress events carried into the next run. */
const CARRIED_EVENTS = 20;

export async function TurnWorkflow(input: TurnInput): Promise<TurnResult> {
  const { settings, threadId } = input;
  const store = proxyActivities<Activities>(storeOptions(settings.timings));
  const model = proxyActivities<Activities>(inferenceOptions(settings.timings));
  const compactor = proxyActivities<Activities>(compactionOptions(settings.timings));

  const resumed = input.resume;
  let status: TurnStatus = 'running';
  let head = resumed?.head ?? input.head;
  let step = resumed?.step ?? 0;
  let usage = resumed?.usage ?? ZERO_USAGE;
  let contextTokens = resumed?.contextTokens ?? input.contextTokens;
  let context = resumed?.context ?? input.context;
  let lastMessage: OutputRef | null = resumed?.lastMessage ?? null;
  let compactions = resumed?.compactions ?? 0;
  let append: string[] = resumed?.append ?? [];
  let error: TurnError | null = null;
  const run = (resumed?.run ?? 0) + 1;
  const stepsAtRunStart = step;
  const events: TurnEvent[] = [...(resumed?.recentEvents ?? [])];
  let seq = events.length > 0 ? events[events.length - 1].seq : 0;
  const emit = (event: NewEvent) => events.push({ ...event, seq: ++seq });
  setHandler(turnProgressQuery, ({ after }) => ({ status, step, head, usage, contextTokens, error, events: events.filter((e) => e.seq > after) }));

  if (resumed) {
    emit({ kind: 'run.continued', step, run });
  } else {
    const begun = await store.beginTurn.executeWithOptions({ ...storeOptions(settings.timings), summary: `turn ${input.turn}: user input` }, [
      { threadId, turn: input.turn, head: input.head, settings, userText: input.userText, context },
    ]);
    head = begun.head;
    context = begun.context;
    contextTokens += tokensOfBytes(begun.appendedBytes);
    emit({ kind: 'turn.started', head, abortedCalls: begun.abortedCalls });
    if (needsCompaction(contextTokens, settings.context)) await compact('auto');
  }

  try {
    for (;;) {
      if (shouldContinueAsNew(workflowInfo().continueAsNewSuggested, step - stepsAtRunStart, settings.context.stepsPerRun)) {
        return await continueAsNew<typeof TurnWorkflow>({
          ...input,
          resume: { head: head!, step, usage, contextTokens, context, append, lastMessage, compactions, run, recentEvents: events.slice(-CARRIED_EVENTS) },
        });
      }
      step += 1;
      emit({ kind: 'step.started', step });
      const response = await inferWithOverflowRecovery();
      head = response.head;
      append = [];
      usage = addUsage(usage, response.usage);
      contextTokens = response.usage.inputTokens + response.usage.outputTokens || tokensOfBytes(response.inputBytes + response.outputBytes);
      for (const ref of response.outputs) {
        emit({ kind: 'output', step, ref });
        if (ref.type === 'agent_message') lastMessage = ref;
      }
      emit({ kind: 'step.completed', step, usage: response.usage, head, contextTokens });
      if (nextStep(response.calls).kind === 'finish') break;
      const results = await runCalls(response.calls, step);
      append = results.map((r) => r.outputHash);
      contextTokens += tokensOfBytes(results.reduce((sum, r) => sum + r.outputBytes, 0));
      if (needsCompaction(contextTokens, settings.context)) {
        await commitPending('outputs before compaction');
        await compact('auto');
      }
    }
    status = 'completed';
  } catch (err) {
    const final = finalInferenceFailure(err);
    if (!final) throw err;
    error = final;
    status = 'failed';
    // Tool outputs not yet sent must still be recorded, or the next turn would see
    // those calls as unanswered.
    await commitPending('turn failed');
  }
  return { status, head, context, lastMessage, usage, steps: step, error, contextTokens, compactions };

  /** One inference; a context overflow is answered by a compaction and one retry. */
  async function inferWithOverflowRecovery() {
    try {
      return await infer();
    } catch (err) {
      if (finalInferenceFailure(err)?.type !== InferenceFailureType.ContextWindowExceeded) throw err;
      await commitPending('outputs before compaction');
      await compact('overflow');
      return infer();
    }
  }

  function infer() {
    return model.runInference.executeWithOptions({ ...inferenceOptions(settings.timings), summary: `inference #${step}` }, [
      { threadId, turn: input.turn, step, head: head!, append, settings },
    ]);
  }

  /** Writes tool outputs that are not yet in a node onto the head. */
  async function commitPending(why: string): Promise<void> {
    if (append.length === 0 || head === null) return;
    head = await store.commitAppend({ threadId, turn: input.turn, head, append, meta: { kind: 'commit', reason: why, turn: input.turn } });
    append = [];
  }

  async function compact(reason: CompactionReason): Promise<void> {
    if (head === null) return;
    const result = await compactor.compactTranscript.executeWithOptions({ ...compactionOptions(settings.timings), summary: `compaction (${reason})` }, [
      { threadId, turn: input.turn, head, settings, reason },
    ]);
    head = result.head;
    context = result.context;
    contextTokens = result.tokensAfter;
    compactions += 1;
    usage = addUsage(usage, result.usage);
    const { mode, tokensBefore, tokensAfter, droppedItems } = result;
    emit({ kind: 'compaction', step, compaction: { head: result.head, mode, reason, tokensBefore, tokensAfter, droppedItems } });
  }

  async function runCalls(calls: ToolCallRef[], atStep: number): Promise<RunToolResult[]> {
    const outputs: RunToolResult[] = [];
    for (const batch of planToolBatches(calls)) outputs.push(...(await Promise.all(batch.map((call) => runCall(call, atStep)))));
    return outputs;
  }

  async function runCall(call: ToolCallRef, atStep: number): Promise<RunToolResult> {
    emit({ kind: 'tool.started', step: atStep, call });
    const options = toolOptions(settings.timings, call.timeoutMs, settings.toolTaskQueue);
    const tools = proxyActivities<Activities>(options);
    let result: RunToolResult;
    try {
      result = await tools.runTool.executeWithOptions({ ...options, summary: call.summary }, [
        { threadId, turn: input.turn, step: atStep, call, cwd: settings.cwd, shellTimeoutMs: settings.shellTimeoutMs },
      ]);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const text = `tool failed after ${TOOL_MAX_ATTEMPTS} attempts: ${err.cause?.message ?? err.message}`;
      const outputHash = await store.storeToolOutput({ callId: call.callId, custom: false, text });
      result = { callId: call.callId, outputHash, success: false, interrupted: false, metadata: { error: text }, outputBytes: text.length + 64 };
    }
    const { outputHash, success, interrupted, metadata } = result;
    emit({ kind: 'tool.completed', step: atStep, callId: call.callId, name: call.name, outputHash, success, interrupted, metadata });
    return result;
  }
}

/** The provider's final word on a request (rejected, unauthorised, …), or null. */
function finalInferenceFailure(err: unknown): TurnError | null {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return null;
  const type = err.cause.type ?? '';
  if (!NON_RETRYABLE_INFERENCE_FAILURES.includes(type)) return null;
  return { type, message: err.cause.message };
}
