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
 * People: a call the approval policy does not allow outright waits for the user's
 * answer (the `answerApproval` update) as workflow state, so it survives worker and server
 * restarts; a denial becomes the call's output. The `steer` signal queues a message that
 * goes to the model before its next request (the turn does not end while one is pending).
 * The `interrupt` signal cancels the loop in whatever phase it is (the turn's start, a
 * compaction, a request, a tool, an approval): the running tool's process group is
 * killed, the model stream cancelled, calls without an output get "aborted by user", a
 * `<turn_aborted>` marker is recorded and the turn ends as `interrupted`. A turn
 * interrupted before its user message was written leaves the transcript as it was.
 *
 * Files: after a step whose calls may have changed the workspace (and, alongside the
 * first request, at the turn's start) the workspace is snapshotted on the pinned host
 * (src/checkpoints); the step's record holds the checkpoint id, or why there is none. A
 * checkpoint that cannot be taken never stops the turn.
 *
 * Speed: a step with one call that needs nothing from the turn between the call and the
 * next request (no input waiting, no continue-as-new due) runs both in one activity,
 * `runToolAndInfer` (src/activities/tool-and-request.ts): one trip through the server
 * per step instead of two. The turn uses its response as the next step's if nothing
 * changed meanwhile (a steering message, a compaction), else asks again; the call's
 * completion is shown when the activity ends, or sooner by signal when the request takes
 * a while. A call that may write is chained too (CHAIN_WRITING_CALLS): the request reads
 * nothing of the workspace, and the step's checkpoint is taken once the activity ends,
 * before any later call that may write runs.
 *
 * Failures: a tool that fails, even after its retries, becomes an error output the model
 * sees; a request the provider rejects for good ends the turn as `failed` with the
 * provider's message, keeping everything recorded so far. A response whose calls repeat
 * a call_id is malformed: none of its calls runs, it is asked for again a bounded
 * number of times, then the turn fails (`ModelOutputMalformed`).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxySinks,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, CompactionReason, InferenceResult, OutputRef, RunToolInput, RunToolResult, ToolCallRef } from '../activities';
import type { CheckpointRef } from '../activities/failover';
import { addUsage, ZERO_USAGE } from '../items/usage';
import { approvalRequirement, sessionApprovalKey, type CallFacts } from '../shared/approval-policy';
import { InferenceFailureType, MALFORMED_OUTPUT_FAILURE, NON_RETRYABLE_INFERENCE_FAILURES, StoreFailureType } from '../shared/failure-types';
import { sandboxPolicyFor } from '../shared/sandbox-policy';
import { workspaceTaskQueue } from '../shared/hosts';
import { DEFAULT_CHECKPOINT_SETTINGS } from '../checkpoints/types';
import { checkpointOptions, inferenceOptions, storeOptions, toolOptions, TOOL_MAX_ATTEMPTS } from './activity-options';
import {
  mayChangeFiles,
  MAX_MALFORMED_RESPONSE_RETRIES,
  needsCompaction,
  nextStep,
  planToolBatches,
  repeatedCallIds,
  shouldContinueAsNew,
  tokensOfBytes,
} from './decisions';
import {
  answerApprovalUpdate,
  interruptSignal,
  steerSignal,
  toolResultSignal,
  turnProgressQuery,
  HANDLER_DESCRIPTIONS,
  type ApprovalOutcome,
  type PendingApproval,
  type SteerInput,
  type TurnError,
  type TurnEvent,
  type TurnInput,
  type TurnResult,
  type TurnStatus,
  type TurnProgressSinks,
} from './definitions';
import { compactOnSharedQueue, onPinnedHost, relocated, workspaceStoreOptions, type PinnedThread } from './workspace';

type NewEvent = TurnEvent extends infer E ? (E extends TurnEvent ? Omit<E, 'seq'> : never) : never;

/** Progress events carried into the next run. */
const CARRIED_EVENTS = 20;

/**
 * Patch ids (see `patched()`): histories recorded before each change replay the old way.
 * - START_IN_LOOP: the turn's start (beginTurn, the compaction before the first request)
 *   runs inside the cancellable loop, so an interrupt ends it too.
 * - REJECT_REPEATED_CALL_IDS: a response whose calls repeat a call_id is asked for again.
 * - CHECKPOINTS: steps that may change files are followed by a workspace checkpoint.
 * - END_EXEC_SESSIONS: see {@link endExecSessions}.
 * - CHECKPOINT_ALONGSIDE_REQUEST: a step's checkpoint runs alongside the next request.
 * - TOOL_AND_NEXT_REQUEST: a step's lone call and the next request may run as one activity.
 * - READ_ONLY_BESIDE_CHECKPOINT: calls that cannot change files do not wait for the last step's checkpoint.
 */
const START_IN_LOOP = 'turn-start-interruptible';
const REJECT_REPEATED_CALL_IDS = 'reject-repeated-call-ids';
const CHECKPOINTS = 'workspace-checkpoints';
/** CHECKPOINT_ALONGSIDE_REQUEST: a step's checkpoint runs alongside the next model request, not before it. */
const CHECKPOINT_ALONGSIDE_REQUEST = 'checkpoint-alongside-request';
/** END_EXEC_SESSIONS: a turn of a thread with exec_command ends its exec sessions on the pinned host. */
const END_EXEC_SESSIONS = 'end-exec-sessions';
/** TOOL_AND_NEXT_REQUEST: see "Speed" in the module comment. */
const TOOL_AND_NEXT_REQUEST = 'tool-and-next-request';
/** READ_ONLY_BESIDE_CHECKPOINT: a snapshot taken while `ls` or `cat` runs is the same snapshot. */
const READ_ONLY_BESIDE_CHECKPOINT = 'read-only-beside-checkpoint';
/** CHAIN_WRITING_CALLS: a call that may write is chained too; its step's checkpoint follows the chained activity. */
const CHAIN_WRITING_CALLS = 'chain-writing-calls';

export async function TurnWorkflow(input: TurnInput): Promise<TurnResult> {
  const { threadId } = input;
  /** The thread's settings; a host failover re-pins them (host, tool queue, cwd). */
  let settings = input.settings;
  let relocation: TurnResult['relocation'];
  /** The step that took `checkpoint` (null: an earlier turn took it; its step is not known here). */
  let checkpointAt: { turn: number; step: number } | null = null;
  const pinned: PinnedThread = {
    threadId,
    turn: input.turn,
    settings: () => settings,
    latestCheckpoint: (): CheckpointRef | null => (checkpoint === null ? null : { id: checkpoint, turn: checkpointAt?.turn ?? null, step: checkpointAt?.step ?? null }),
    moved: (move) => {
      settings = relocated(settings, move);
      relocation = { host: move.to, cwd: move.cwd };
      emit({ kind: 'host.moved', step, move });
    },
  };
  const store = proxyActivities<Activities>(storeOptions(settings.timings));
  const model = proxyActivities<Activities>(inferenceOptions(settings.timings));

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
  let checkpoint: string | null = resumed ? (resumed.checkpoint ?? null) : (input.checkpoint ?? null);
  const checkpointSettings = settings.checkpoints ?? DEFAULT_CHECKPOINT_SETTINGS;
  const checkpointing = checkpointSettings.enabled && patched(CHECKPOINTS);
  /**
   * A checkpoint still being taken while a model request runs: the turn-start one during
   * the first request, and (CHECKPOINT_ALONGSIDE_REQUEST) a step's during the next one.
   * Awaited before any tool runs again, before a continue-as-new and before the turn ends.
   */
  let pendingCheckpoint: Promise<void> | null = null;
  const checkpointAlongside = checkpointing && patched(CHECKPOINT_ALONGSIDE_REQUEST);
  const settleCheckpoint = async () => {
    if (pendingCheckpoint) await pendingCheckpoint.then(() => (pendingCheckpoint = null));
  };
  const chaining = patched(TOOL_AND_NEXT_REQUEST);
  /** The next request's answer (a response, or a failure it would not retry), got by a step's `runToolAndInfer`, with the transcript it was asked for. */
  let prefetched: ({ head: string; append: string[] } & ChainedAnswer) | null = null;
  /** A chained request that failed asked to wait this long (Retry-After) before the next attempt. */
  let retryAfterMs = 0;
  /** Results of calls whose completion was already shown (announced by `toolResultSignal`), by call id. */
  const announced = new Map<string, RunToolResult>();
  /** The call of the running `runToolAndInfer`, if any. */
  let chainedCall: { callId: string; step: number } | null = null;
  const run = (resumed?.run ?? 0) + 1;
  const pendingInputs: SteerInput[] = (resumed?.pendingInputs ?? []).map((p) => (typeof p === 'string' ? { text: p } : p));
  const approved = new Set<string>(resumed?.approvedForSession ?? input.approvedForSession ?? []);
  const pendingApprovals = new Map<string, PendingApproval>();
  const answers = new Map<string, ApprovalOutcome>();
  /** Outputs of the current step's calls, by call id, as they complete. */
  let stepOutputs = new Map<string, string>();
  let stepCalls: ToolCallRef[] = [];
  let interruption: string | null = null;
  /** True once the turn's user message is in the transcript (always, in a continued run). */
  let started = resumed !== undefined;
  const loop = new CancellationScope();
  const stepsAtRunStart = step;
  const events: TurnEvent[] = [...(resumed?.recentEvents ?? [])];
  let seq = events.length > 0 ? events[events.length - 1].seq : 0;
  const progressSink = proxySinks<TurnProgressSinks>().turnProgress;
  const emit = (event: NewEvent) => {
    const numbered = { ...event, seq: ++seq } as TurnEvent;
    events.push(numbered);
    progressSink.event(numbered);
  };
  setHandler(turnProgressQuery, ({ after }) => ({
    status,
    step,
    head,
    usage,
    contextTokens,
    error,
    pendingApprovals: [...pendingApprovals.values()],
    events: events.filter((e) => e.seq > after),
  }), { description: HANDLER_DESCRIPTIONS.turnProgress });
  setHandler(interruptSignal, ({ reason }) => interrupt(reason ?? 'interrupted by the user'), { description: HANDLER_DESCRIPTIONS.interrupt });
  setHandler(steerSignal, (steer) => void pendingInputs.push(steer), { description: HANDLER_DESCRIPTIONS.steer });
  setHandler(
    toolResultSignal,
    ({ step: atStep, result }) => {
      if (chainedCall?.callId !== result.callId || chainedCall.step !== atStep || announced.has(result.callId)) return;
      announced.set(result.callId, result);
      callCompleted(atStep, result);
    },
    { description: HANDLER_DESCRIPTIONS.toolResult },
  );
  setHandler(
    answerApprovalUpdate,
    ({ callId, decision }) => {
      const id = callId ?? [...pendingApprovals.keys()][0];
      answers.set(id, decision);
      if (decision === 'abort') interrupt('aborted at an approval request');
      return { callId: id, decision };
    },
    {
      description: HANDLER_DESCRIPTIONS.answerApproval,
      validator: (answer: unknown) => {
        const { callId, decision } = (answer ?? {}) as { callId?: unknown; decision?: unknown };
        if (!['approve', 'approve-for-session', 'deny', 'abort'].includes(decision as string)) throw new Error(`unknown decision ${JSON.stringify(decision)}: use approve, approve-for-session, deny or abort`);
        if (pendingApprovals.size === 0) throw new Error('no tool call is waiting for approval in this turn');
        if (callId === undefined && pendingApprovals.size > 1) throw new Error(`${pendingApprovals.size} calls are waiting (${[...pendingApprovals.keys()].join(', ')}); name one`);
        if (callId !== undefined && !pendingApprovals.has(callId as string)) throw new Error(`call ${JSON.stringify(callId)} is not waiting for approval (waiting: ${[...pendingApprovals.keys()].join(', ')})`);
      },
    },
  );

  if (resumed) emit({ kind: 'run.continued', step, run });
  const startInLoop = !resumed && patched(START_IN_LOOP);
  if (!resumed && !startInLoop) await startTurn();

  try {
    await loop.run(async () => {
      if (startInLoop) await startTurn();
      for (;;) {
        if (shouldContinueAsNew(workflowInfo().continueAsNewSuggested, step - stepsAtRunStart, settings.context.stepsPerRun)) {
          // The new run starts from the latest checkpoint: it must be taken (or given up) first.
          if (checkpointAlongside) await settleCheckpoint();
          // A chained response the new run will ask for again: its tokens were spent.
          const unused = takePrefetched();
          if (unused && 'response' in unused) usage = addUsage(usage, unused.response.usage);
          await continueAsNew<typeof TurnWorkflow>({
            ...input,
            // A run that moved hosts goes on where the thread lives now.
            settings,
            resume: {
              head: head!, step, usage, contextTokens, context, append, lastMessage, compactions, run,
              recentEvents: events.slice(-CARRIED_EVENTS), approvedForSession: [...approved],
              pendingInputs: pendingInputs.map((p) => ('text' in p ? p.text : p)),
              ...(checkpointing ? { checkpoint } : {}),
            },
          });
        }
        step += 1;
        emit({ kind: 'step.started', step });
        await injectPendingInputs();
        const response = await inferWellFormed(takePrefetched());
        // Nothing touches the workspace before this: the next tools wait for its checkpoint,
        // unless none of them can change a file (READ_ONLY_BESIDE_CHECKPOINT): those run
        // beside it, and the first later call that may write waits for it.
        const besideCheckpoint = pendingCheckpoint !== null && response.calls.length > 0 && !mayChangeFiles(response.calls);
        if (!(besideCheckpoint && patched(READ_ONLY_BESIDE_CHECKPOINT))) await settleCheckpoint();
        head = response.head;
        append = [];
        // The previous step's outputs are in the new head now; an interruption from here on
        // concerns only the calls of this response.
        stepCalls = [];
        stepOutputs = new Map();
        usage = addUsage(usage, response.usage);
        contextTokens = response.usage.inputTokens + response.usage.outputTokens || tokensOfBytes(response.inputBytes + response.outputBytes);
        for (const ref of response.outputs) {
          emit({ kind: 'output', step, ref });
          if (ref.type === 'agent_message') lastMessage = ref;
        }
        emit({ kind: 'step.completed', step, usage: response.usage, head, contextTokens });
        if (nextStep(response.calls).kind === 'finish') {
          if (pendingInputs.length === 0) break;
          continue;
        }
        const results = await runCalls(response.calls, step);
        append = results.map((r) => r.outputHash);
        if (checkpointing && mayChangeFiles(response.calls)) {
          // The next request reads nothing of the workspace: the snapshot is taken while it
          // runs (or, when the call was chained with it, once both are done). An interrupt
          // of that request does not cut the snapshot short (the step's files are part of
          // what the turn leaves); the interrupted turn waits for it.
          if (checkpointAlongside) pendingCheckpoint = CancellationScope.nonCancellable(() => takeCheckpoint(step)).catch(() => undefined);
          else await takeCheckpoint(step);
        }
        contextTokens += tokensOfBytes(results.reduce((sum, r) => sum + r.outputBytes, 0));
        if (needsCompaction(contextTokens, settings.context)) {
          await commitPending('outputs before compaction');
          await compact('auto');
        }
      }
    });
    status = 'completed';
  } catch (err) {
    if (interruption !== null && isCancellation(err)) {
      if (checkpointAlongside) await CancellationScope.nonCancellable(settleCheckpoint);
      await CancellationScope.nonCancellable(() => recordInterruption(interruption!));
      status = 'interrupted';
    } else {
      const final = finalInferenceFailure(err) ?? malformedOutputFailure(err);
      if (!final) throw err;
      error = final;
      status = 'failed';
      // The step's checkpoint is part of what the turn leaves; it is not cut short.
      if (checkpointAlongside) await CancellationScope.nonCancellable(settleCheckpoint);
      // Tool outputs not yet sent must still be recorded, or the next turn would see
      // those calls as unanswered.
      await commitPending('turn failed');
    }
  }
  if (settings.tools?.names.includes('exec_command') && patched(END_EXEC_SESSIONS)) await CancellationScope.nonCancellable(endExecSessions);
  return {
    status, head, context, lastMessage, usage, steps: step, error, contextTokens, compactions, approvedForSession: [...approved],
    ...(relocation ? { relocation } : {}),
    ...(checkpointing ? { checkpoint } : {}),
    lastEventSeq: seq,
  };

  /** Writes the user's message (and any changed context) to the transcript; compacts if over the limit. */
  async function startTurn(): Promise<void> {
    const user = input.userItem !== undefined ? { userItem: input.userItem } : { userText: input.userText };
    // It reads AGENTS.md and the environment: on the pinned host (see ./workspace).
    const begun = await onPinnedHost(pinned, (current, extra) => {
      const begin = { ...workspaceStoreOptions(current), ...extra };
      return proxyActivities<Activities>(begin).beginTurn.executeWithOptions({ ...begin, summary: `turn ${input.turn}: user input` }, [
        { threadId, turn: input.turn, head: input.head, settings: current, ...user, context },
      ]);
    });
    head = begun.head;
    context = begun.context;
    started = true;
    contextTokens += tokensOfBytes(begun.appendedBytes);
    emit({ kind: 'turn.started', head, abortedCalls: begun.abortedCalls, cwd: settings.cwd });
    // What the user changed since the last turn gets its own checkpoint (step 0). Nothing
    // the agent does touches the workspace before the first response, so it runs
    // alongside the first request; a failure is recorded, never thrown.
    if (checkpointing) pendingCheckpoint = takeCheckpoint(0).catch(() => undefined);
    if (needsCompaction(contextTokens, settings.context)) await compact('auto');
  }

  /**
   * Ends the exec sessions (exec_command) the turn leaves running, on the pinned host that
   * holds them, however the turn ended. Bounded: a host with no worker (its sessions died
   * with it) is given up on after a short wait, and a failure never fails the turn.
   */
  async function endExecSessions(): Promise<void> {
    const options = { ...storeOptions(settings.timings), taskQueue: workspaceTaskQueue(settings), scheduleToCloseTimeout: 30_000, retry: { maximumAttempts: 2 } };
    try {
      await proxyActivities<Activities>(options).endExecSessions.executeWithOptions({ ...options, summary: `turn ${input.turn}: end exec sessions` }, [{ threadId, turn: input.turn }]);
    } catch {
      // The sessions' worker is gone, and the sessions with it; nothing is left to end.
    }
  }

  /** Snapshots the workspace on the pinned host; records the outcome as the step's checkpoint. */
  async function takeCheckpoint(atStep: number): Promise<void> {
    try {
      const outcome = await onPinnedHost(pinned, (current, extra) => {
        const options = { ...checkpointOptions(current.timings, workspaceTaskQueue(current)), ...extra };
        return proxyActivities<Activities>(options).checkpointWorkspace.executeWithOptions({ ...options, summary: `checkpoint ${input.turn}.${atStep}` }, [
          { threadId, turn: input.turn, step: atStep, cwd: current.cwd, previous: checkpoint, settings: checkpointSettings },
        ]);
      });
      if (outcome.kind === 'created') {
        checkpoint = outcome.id;
        checkpointAt = { turn: input.turn, step: atStep };
      }
      const id = outcome.kind === 'skipped' ? null : outcome.id;
      emit({ kind: 'checkpoint', step: atStep, checkpoint: { status: outcome.kind, id, changeCount: outcome.kind === 'created' ? outcome.changeCount : 0, ...(outcome.kind === 'skipped' ? { reason: outcome.reason } : {}) } });
    } catch (err) {
      if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
      const reason = `the checkpoint failed after its retries: ${err.cause?.message ?? err.message}`;
      emit({ kind: 'checkpoint', step: atStep, checkpoint: { status: 'skipped', id: null, changeCount: 0, reason } });
    }
  }

  function interrupt(reason: string): void {
    if (interruption !== null || status !== 'running') return;
    interruption = reason;
    loop.cancel();
  }

  /** Steering messages go to the model before its next request, after any tool outputs. */
  async function injectPendingInputs(): Promise<void> {
    if (pendingInputs.length === 0) return;
    for (const steer of pendingInputs.splice(0)) {
      if ('item' in steer) {
        append.push(steer.item);
        emit({ kind: 'input.injected', step, text: steer.excerpt });
      } else {
        append.push(await store.storeMessage({ role: 'user', text: steer.text }));
        emit({ kind: 'input.injected', step, text: steer.text.slice(0, 200) });
      }
    }
  }

  /**
   * Closes an interrupted turn: every call of the step gets an output, then the marker.
   * A turn interrupted before its user message was written leaves the transcript as it
   * was (the model never saw the message), so it records nothing there and needs no
   * store write, which may be what it was stuck on.
   */
  async function recordInterruption(reason: string): Promise<void> {
    if (!started) {
      emit({ kind: 'turn.interrupted', step, reason });
      return;
    }
    const outputs: string[] = [];
    for (const call of stepCalls) {
      outputs.push(stepOutputs.get(call.callId) ?? (await store.storeToolOutput({ callId: call.callId, custom: call.custom ?? false, text: ABORTED_BY_USER })));
    }
    const marker = await store.storeMessage({ role: 'user', text: turnAbortedText(reason) });
    if (head !== null) {
      head = await store.commitAppend({ threadId, turn: input.turn, head, append: [...append.filter((h) => !outputs.includes(h)), ...outputs, marker], meta: { kind: 'interrupted', turn: input.turn } });
    }
    append = [];
    emit({ kind: 'turn.interrupted', step, reason });
  }

  /**
   * One step's inference. A response whose calls repeat a call_id cannot be answered
   * (outputs are matched to calls by call_id), so none of its calls runs: it is asked
   * for again from the same transcript, at most MAX_MALFORMED_RESPONSE_RETRIES times,
   * then the turn fails with a ModelOutputMalformed error. The rejected responses stay
   * out of the transcript; their tokens are counted.
   */
  async function inferWellFormed(first: ChainedAnswer | null) {
    for (let retries = 0; ; retries++) {
      const response = await inferWithOverflowRecovery(retries === 0 ? first : null);
      const repeated = repeatedCallIds(response.calls);
      if (repeated.length === 0 || !patched(REJECT_REPEATED_CALL_IDS)) return response;
      usage = addUsage(usage, response.usage);
      if (retries >= MAX_MALFORMED_RESPONSE_RETRIES) {
        const calls = repeated.map((r) => `${r.count} calls with call_id ${JSON.stringify(r.callId)}`).join(' and ');
        throw ApplicationFailure.create({
          type: MALFORMED_OUTPUT_FAILURE,
          nonRetryable: true,
          message: `the model's response had ${calls} (${retries + 1} responses in a row); none of them was run`,
        });
      }
    }
  }

  /** One inference (or the chained request's answer); a context overflow is answered by a compaction and one retry. */
  async function inferWithOverflowRecovery(first: ChainedAnswer | null) {
    try {
      if (first && 'failure' in first) throw ApplicationFailure.create({ ...first.failure, nonRetryable: true });
      return first ? first.response : await infer();
    } catch (err) {
      if (finalInferenceFailure(err)?.type !== InferenceFailureType.ContextWindowExceeded) throw err;
      await commitPending('outputs before compaction');
      await compact('overflow');
      return infer();
    }
  }

  /**
   * The response a chained request got for this step, if the step asks for exactly what it
   * was asked with; else null (its tokens were spent all the same).
   */
  function takePrefetched(): ChainedAnswer | null {
    const got = prefetched;
    prefetched = null;
    if (!got) return null;
    if (got.head === head && got.append.length === append.length && got.append.every((h, i) => h === append[i])) return got;
    if ('response' in got) usage = addUsage(usage, got.response.usage);
    return null;
  }

  async function infer() {
    if (retryAfterMs > 0) {
      const wait = retryAfterMs;
      retryAfterMs = 0;
      await sleep(wait);
    }
    return model.runInference.executeWithOptions({ ...inferenceOptions(settings.timings), summary: `inference #${step}` }, [
      { threadId, turn: input.turn, step, head: head!, append, settings },
    ]);
  }

  /** Writes tool outputs that are not yet in a node onto the head. */
  async function commitPending(why: string): Promise<void> {
    if (append.length === 0 || head === null) return;
    head = await store.commitAppend({ threadId, turn: input.turn, head, append, meta: { kind: 'commit', reason: why, turn: input.turn } });
    append = [];
    stepCalls = [];
    stepOutputs = new Map();
  }

  async function compact(reason: CompactionReason): Promise<void> {
    if (head === null) return;
    const result = await compactOnSharedQueue({ threadId, turn: input.turn, head, settings, reason }, `compaction (${reason})`, pinned);
    head = result.head;
    context = result.context;
    contextTokens = result.tokensAfter;
    compactions += 1;
    usage = addUsage(usage, result.usage);
    const { mode, tokensBefore, tokensAfter, droppedItems } = result;
    emit({ kind: 'compaction', step, compaction: { head: result.head, mode, reason, tokensBefore, tokensAfter, droppedItems } });
  }

  async function runCalls(calls: ToolCallRef[], atStep: number): Promise<RunToolResult[]> {
    stepCalls = calls;
    stepOutputs = new Map();
    // One call, and nothing for the turn to do between it and the next request: chain them.
    const chain =
      chaining && calls.length === 1 && !(checkpointing && mayChangeFiles(calls) && !patched(CHAIN_WRITING_CALLS)) && pendingInputs.length === 0 &&
      !shouldContinueAsNew(workflowInfo().continueAsNewSuggested, step - stepsAtRunStart, settings.context.stepsPerRun);
    const outputs: RunToolResult[] = [];
    for (const batch of planToolBatches(calls)) outputs.push(...(await Promise.all(batch.map((call) => runCall(call, atStep, chain)))));
    return outputs;
  }

  async function runCall(call: ToolCallRef, atStep: number, chain: boolean): Promise<RunToolResult> {
    emit({ kind: 'tool.started', step: atStep, call });
    const result = await decideAndRun(call, atStep, chain);
    const shown = announced.get(call.callId);
    announced.delete(call.callId);
    if (shown) return shown;
    callCompleted(atStep, result);
    return result;
  }

  function callCompleted(atStep: number, result: RunToolResult): void {
    stepOutputs.set(result.callId, result.outputHash);
    const { callId, outputHash, success, interrupted, metadata } = result;
    const name = stepCalls.find((c) => c.callId === callId)?.name ?? '';
    emit({ kind: 'tool.completed', step: atStep, callId, name, outputHash, success, interrupted, metadata });
  }

  /** Applies the approval policy, then runs the call (or records why it did not run). */
  async function decideAndRun(call: ToolCallRef, atStep: number, chain: boolean): Promise<RunToolResult> {
    // Calls recorded before approvals existed carry no facts: they ran without asking.
    const facts = call.facts ?? NO_FACTS;
    const requirement = approvalRequirement(settings.approvalPolicy, call.name, facts, approved);
    if (requirement.kind === 'refuse') return madeUpOutput(call, requirement.output);
    let sandboxed = requirement.kind === 'run' ? requirement.sandboxed : requirement.sandboxedIfApproved;
    if (requirement.kind === 'ask') {
      const outcome = await askApproval(call, requirement.reason, atStep);
      if (outcome === 'deny') return madeUpOutput(call, `the user denied this ${call.name === 'shell' ? 'command' : 'call'}; it was not run`);
      if (outcome === 'timeout') return madeUpOutput(call, `the approval request timed out after ${settings.approvalTimeoutMs} ms; the ${call.name === 'shell' ? 'command' : 'call'} was not run`);
      if (outcome === 'approve-for-session') {
        const key = sessionApprovalKey(call.name, facts);
        if (key !== null) approved.add(key);
      }
      sandboxed = requirement.sandboxedIfApproved;
    }
    const toolInput = (current: typeof settings): RunToolInput => ({
      threadId, turn: input.turn, step: atStep, call, cwd: current.cwd, shellTimeoutMs: current.shellTimeoutMs,
      ...(current.provider.envKey ? { secretEnvNames: [current.provider.envKey] } : {}),
      ...(current.toolEnvironment ? { environment: current.toolEnvironment } : {}),
      ...(current.tools ? { toolNames: current.tools.names, model: current.model } : {}),
      ...(current.tools?.dynamic && Object.hasOwn(current.tools.dynamic, call.name) ? { dynamicTool: current.tools.dynamic[call.name] } : {}),
      sandbox: sandboxed ? sandboxPolicyFor(current) : null,
    });
    try {
      if (chain && head !== null) return await runChained(call, atStep, head, toolInput);
      // On the pinned host; after a move, again on the new one with the same input (see ./workspace).
      return await onPinnedHost(pinned, (current, extra) => {
        const options = { ...toolOptions(current.timings, call.timeoutMs, workspaceTaskQueue(current)), ...extra };
        return proxyActivities<Activities>(options).runTool.executeWithOptions({ ...options, summary: call.summary }, [toolInput(current)]);
      });
    } catch (err) {
      if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
      // An unreadable store object is not the tool's failure: the next request would fail
      // on it too, so the turn ends with the store's message.
      if (finalInferenceFailure(err)?.type === StoreFailureType.ObjectUnreadable) throw err;
      return madeUpOutput(call, `tool failed after ${TOOL_MAX_ATTEMPTS} attempts: ${err.cause?.message ?? err.message}`);
    }
  }

  /**
   * Runs the call and the next request (step `atStep + 1`, the call's output appended to
   * `from`) as one activity; keeps the response for that step (see takePrefetched).
   */
  async function runChained(call: ToolCallRef, atStep: number, from: string, toolInput: (current: typeof settings) => RunToolInput): Promise<RunToolResult> {
    chainedCall = { callId: call.callId, step: atStep };
    try {
      const out = await onPinnedHost(pinned, (current, extra) => {
        const tool = toolOptions(current.timings, call.timeoutMs, workspaceTaskQueue(current));
        const options = {
          ...tool,
          startToCloseTimeout: call.timeoutMs + current.timings.toolGraceMs + current.timings.inferenceStartToCloseMs,
          heartbeatTimeout: Math.max(current.timings.toolHeartbeatMs, current.timings.inferenceHeartbeatMs),
          ...extra,
        };
        return proxyActivities<Activities>(options).runToolAndInfer.executeWithOptions({ ...options, summary: `${call.summary} → inference #${atStep + 1}` }, [
          { ...toolInput(current), settings: current, next: { step: atStep + 1, head: from, contextTokens } },
        ]);
      });
      const asked = { head: from, append: [out.tool.outputHash] };
      const failure = out.nextFailure;
      if (out.next) prefetched = { ...asked, response: out.next };
      // The provider's final word is the step's answer; a key missing on the pinned host is not
      // (a worker on the shared queue may have it): that request is asked again the ordinary way.
      else if (failure?.nonRetryable && failure.type && failure.type !== InferenceFailureType.MissingApiKey && NON_RETRYABLE_INFERENCE_FAILURES.includes(failure.type)) prefetched = { ...asked, failure: { type: failure.type, message: failure.message } };
      else if (failure?.retryAfterMs) retryAfterMs = failure.retryAfterMs;
      return out.tool;
    } finally {
      chainedCall = null;
    }
  }

  /** Waits for the user's answer (or the timeout) while the call is listed as pending. */
  async function askApproval(call: ToolCallRef, reason: string, atStep: number): Promise<ApprovalOutcome> {
    pendingApprovals.set(call.callId, { callId: call.callId, name: call.name, summary: call.summary, reason, justification: call.facts?.justification ?? null, step: atStep });
    emit({ kind: 'approval.requested', step: atStep, call, reason });
    try {
      const answered = settings.approvalTimeoutMs === undefined
        ? (await condition(() => answers.has(call.callId)), true)
        : await condition(() => answers.has(call.callId), settings.approvalTimeoutMs);
      const outcome: ApprovalOutcome = answered ? answers.get(call.callId)! : 'timeout';
      emit({ kind: 'approval.resolved', step: atStep, callId: call.callId, decision: outcome });
      return outcome === 'abort' ? 'deny' : outcome;
    } finally {
      pendingApprovals.delete(call.callId);
    }
  }

  async function madeUpOutput(call: ToolCallRef, text: string): Promise<RunToolResult> {
    const outputHash = await store.storeToolOutput({ callId: call.callId, custom: call.custom ?? false, text });
    return { callId: call.callId, outputHash, success: false, interrupted: false, metadata: { error: text }, outputBytes: text.length + 64 };
  }
}

const NO_FACTS: CallFacts = { argv: null, knownSafe: false, escalate: false, justification: null, mutatesFiles: false };

/** The output of a call the user's interrupt cut short or never let start. */
export const ABORTED_BY_USER = 'aborted by user: the turn was interrupted before this call finished';

/** The marker recorded at the end of an interrupted turn, for the model's next turn. */
function turnAbortedText(reason: string): string {
  return `<turn_aborted>\nThe user interrupted the previous turn (${reason}). Calls that had not finished were aborted; check their effects before relying on them.\n</turn_aborted>`;
}

/** The turn's own verdict that the model's output cannot be used, or null. */
function malformedOutputFailure(err: unknown): TurnError | null {
  if (!(err instanceof ApplicationFailure) || err.type !== MALFORMED_OUTPUT_FAILURE) return null;
  return { type: MALFORMED_OUTPUT_FAILURE, message: err.message };
}

/** The provider's final word on a request (rejected, unauthorised, …), or null: an activity's failure, or a chained request's as the turn rethrows it. */
function finalInferenceFailure(err: unknown): TurnError | null {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  if (!(failure instanceof ApplicationFailure)) return null;
  const type = failure.type ?? '';
  if (!NON_RETRYABLE_INFERENCE_FAILURES.includes(type)) return null;
  return { type, message: failure.message };
}

/** What a chained request (runToolAndInfer) answered for the next step. */
type ChainedAnswer = { readonly response: InferenceResult } | { readonly failure: { readonly type: string; readonly message: string } };
