/**
 * TurnWorkflow: the agent loop for one turn of a thread.
 *
 * The turn starts by writing the user's message (and any context that changed) to the
 * transcript. Then it asks the model (an inference activity), and if the response has
 * tool calls it runs them (parallel-safe ones together, the rest one at a time, outputs
 * kept in call order) and asks again with the outputs appended; a response with no tool
 * call ends the turn. The workflow only ever holds the transcript's head hash and small
 * facts: every activity takes and returns references, so history stays flat however
 * large the conversation grows. A tool that fails, even after its retries, becomes an
 * error output the model sees; a request the provider rejects for good ends the turn as
 * `failed` with the provider's message, keeping everything recorded so far.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities, OutputRef, RunToolResult, ToolCallRef } from '../activities';
import { addUsage, ZERO_USAGE } from '../items/usage';
import { NON_RETRYABLE_INFERENCE_FAILURES } from '../shared/failure-types';
import { inferenceOptions, storeOptions, toolOptions, TOOL_MAX_ATTEMPTS } from './activity-options';
import { nextStep, planToolBatches } from './decisions';
import {
  turnProgressQuery,
  type TurnError,
  type TurnEvent,
  type TurnInput,
  type TurnResult,
  type TurnStatus,
} from './definitions';

type NewEvent = TurnEvent extends infer E ? (E extends TurnEvent ? Omit<E, 'seq'> : never) : never;

export async function TurnWorkflow(input: TurnInput): Promise<TurnResult> {
  const { settings } = input;
  const store = proxyActivities<Activities>(storeOptions(settings.timings));
  const model = proxyActivities<Activities>(inferenceOptions(settings.timings));

  let status: TurnStatus = 'running';
  let head = input.head;
  let step = 0;
  let usage = ZERO_USAGE;
  let error: TurnError | null = null;
  let lastMessage: OutputRef | null = null;
  const events: TurnEvent[] = [];
  const emit = (event: NewEvent) => events.push({ ...event, seq: events.length + 1 });
  setHandler(turnProgressQuery, ({ after }) => ({ status, step, head, usage, error, events: events.slice(Math.max(0, after)) }));

  const begun = await store.beginTurn.executeWithOptions({ ...storeOptions(settings.timings), summary: `turn ${input.turn}: user input` }, [
    { threadId: input.threadId, turn: input.turn, head: input.head, settings, userText: input.userText, context: input.context },
  ]);
  head = begun.head;
  emit({ kind: 'turn.started', head, abortedCalls: begun.abortedCalls });

  let append: string[] = [];
  try {
    for (;;) {
      step += 1;
      emit({ kind: 'step.started', step });
      const response = await model.runInference.executeWithOptions(
        { ...inferenceOptions(settings.timings), summary: `inference #${step}` },
        [{ threadId: input.threadId, turn: input.turn, step, head, append, settings }],
      );
      head = response.head;
      append = [];
      usage = addUsage(usage, response.usage);
      for (const ref of response.outputs) {
        emit({ kind: 'output', step, ref });
        if (ref.type === 'agent_message') lastMessage = ref;
      }
      emit({ kind: 'step.completed', step, usage: response.usage, head });
      if (nextStep(response.calls).kind === 'finish') break;
      append = await runCalls(response.calls, step);
    }
    status = 'completed';
  } catch (err) {
    const final = finalInferenceFailure(err);
    if (!final) throw err;
    error = final;
    status = 'failed';
    // Tool outputs not yet sent must still be recorded, or the next turn would see
    // those calls as unanswered.
    if (append.length > 0 && head !== null) head = await store.commitAppend({ threadId: input.threadId, turn: input.turn, head, append, meta: { kind: 'turn-failed', turn: input.turn } });
  }
  return { status, head, context: begun.context, lastMessage, usage, steps: step, error };

  async function runCalls(calls: ToolCallRef[], atStep: number): Promise<string[]> {
    const outputs: string[] = [];
    for (const batch of planToolBatches(calls)) {
      const results = await Promise.all(batch.map((call) => runCall(call, atStep)));
      outputs.push(...results.map((r) => r.outputHash));
    }
    return outputs;
  }

  async function runCall(call: ToolCallRef, atStep: number): Promise<RunToolResult> {
    emit({ kind: 'tool.started', step: atStep, call });
    const tools = proxyActivities<Activities>(toolOptions(settings.timings, call.timeoutMs, settings.toolTaskQueue));
    let result: RunToolResult;
    try {
      result = await tools.runTool.executeWithOptions(
        { ...toolOptions(settings.timings, call.timeoutMs, settings.toolTaskQueue), summary: call.summary },
        [{ threadId: input.threadId, turn: input.turn, step: atStep, call, cwd: settings.cwd, shellTimeoutMs: settings.shellTimeoutMs }],
      );
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const reason = err.cause?.message ?? err.message;
      const text = `tool failed after ${TOOL_MAX_ATTEMPTS} attempts: ${reason}`;
      const outputHash = await store.storeToolOutput({ callId: call.callId, custom: false, text });
      result = { callId: call.callId, outputHash, success: false, interrupted: false, metadata: { error: text } };
    }
    emit({
      kind: 'tool.completed',
      step: atStep,
      callId: call.callId,
      name: call.name,
      outputHash: result.outputHash,
      success: result.success,
      interrupted: result.interrupted,
      metadata: result.metadata,
    });
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
