/**
 * Builds a {@link ThreadRun} from a thread's workflow histories and the transcript
 * store. The histories say what happened and in which order (activities, attempts,
 * failures, continue-as-new); the store supplies the texts the histories only name by
 * hash (reasoning, messages, tool arguments and outputs). Objects missing from the
 * store leave their texts null rather than failing the whole view.
 */
import type { CheckpointInput, RestoreWorkspaceInput } from '../activities/checkpoints';
import type { InferenceInput, InferenceResult, OutputRef, RunToolAndInferInput, RunToolAndInferResult, RunToolInput, RunToolResult, ToolCallRef } from '../activities/types';
import type { CheckpointOutcome } from '../checkpoints/types';
import { isToolOutput, messageText, toolOutputText, type ConversationItem } from '../items/schemas';
import { addUsage, ZERO_USAGE } from '../items/usage';
import { ObjectNotFoundError, type TranscriptNode, type TranscriptStore } from '../store';
import type { SessionInput, TurnInput, TurnResult } from '../workflows/definitions';
import { activityRecords, approvalRecords, runRecord, type ActivityRecord, type RunRecord } from './history-events';
import { HostMoveTracker, type HostMoveView } from './host-moves';
import type { RecordedWorkflow, ThreadHistories } from './thread-histories';
import type { ActivityView, CheckpointView, CompactionView, RewindView, RunView, StepRun, ThreadRun, ToolCallRun, TurnRun } from './thread-run';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type StepDraft = Mutable<StepRun> & { rejected: ActivityView[]; before: ActivityView[]; toolCalls: ToolCallRun[]; result: InferenceResult | null };
/** A call's tool activity (null when the call never ran: denied, refused) and any made-up output. */
type ToolActivity = { record: ActivityRecord | null; fallback: ActivityRecord | null };

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** An activity as shown; `withResult` keeps its (small) result for bookkeeping activities. */
export function activityView(record: ActivityRecord, withResult = false): ActivityView {
  const end = record.closedAt;
  return {
    name: record.name,
    summary: record.summary,
    attempts: record.attempts,
    lastRetryFailure: record.lastRetryFailure,
    outcome: record.outcome,
    failure: record.failure,
    failureType: record.failureType,
    scheduledAt: iso(record.scheduledAt),
    closedAt: iso(end),
    durationMs: end !== null && record.scheduledAt !== null ? end - record.scheduledAt : null,
    result: withResult ? (record.result ?? null) : null,
  };
}

function runView(run: RecordedWorkflow, record: RunRecord): RunView {
  return { runId: run.runId, status: record.status, startedAt: iso(record.startedAt), closedAt: iso(record.closedAt), events: record.events };
}

/** Reads store objects, tolerating ones that are missing; remembers transcript roots. */
class TranscriptReader {
  private readonly roots = new Map<string, string>();
  private currentRoot: string | null = null;

  constructor(private readonly store: TranscriptStore) {}

  async item(hash: string | null | undefined): Promise<ConversationItem | null> {
    if (!hash) return null;
    return this.tolerate(() => this.store.getItem(hash));
  }

  async node(hash: string): Promise<TranscriptNode | null> {
    return this.tolerate(() => this.store.getNode(hash));
  }

  /** The root node of the chain named by `head`, or null if the chain is broken. */
  async rootOf(head: string): Promise<string | null> {
    const walked: string[] = [];
    let cursor: string | null = head;
    let root: string | null = null;
    while (cursor !== null) {
      const known = this.roots.get(cursor);
      if (known) {
        root = known;
        break;
      }
      walked.push(cursor);
      const node = await this.node(cursor);
      if (!node) return null;
      if (node.parent === null) root = cursor;
      cursor = node.parent;
    }
    if (root !== null) for (const hash of walked) this.roots.set(hash, root);
    return root;
  }

  /**
   * Follows the thread's heads in order; returns a compaction when `head`'s chain starts
   * from another root than the heads seen before (the first root is the thread's own).
   */
  async observe(head: string | null, activity: ActivityView | null): Promise<CompactionView | null> {
    if (head === null) return null;
    const root = await this.rootOf(head);
    if (root === null) return null;
    const previous = this.currentRoot;
    this.currentRoot = root;
    if (previous === null || previous === root) return null;
    const node = await this.node(root);
    return { root, rootItems: node?.items.length ?? 0, meta: node?.meta ?? null, activity };
  }

  private async tolerate<T>(read: () => Promise<T>): Promise<T | null> {
    try {
      return await read();
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return null;
      throw err;
    }
  }
}

const TOOL_OUTPUT_FIELD = (item: ConversationItem | null): string | null => (item && isToolOutput(item) ? toolOutputText(item.output) : null);

/** Builds the debugger's view of a thread. */
export async function buildThreadRun(histories: ThreadHistories, store: TranscriptStore): Promise<ThreadRun> {
  const reader = new TranscriptReader(store);
  const sessions = histories.workflows.filter((w) => w.workflowType === 'SessionWorkflow');
  const sessionRecords = sessions.map((s) => runRecord(s.history));
  const startedIn = new Map<string, number>();
  sessionRecords.forEach((record, i) => record.children.forEach((c) => startedIn.set(c.workflowId, i)));
  const turnRuns = new Map<string, RecordedWorkflow[]>();
  for (const w of histories.workflows) {
    if (w.workflowType !== 'TurnWorkflow') continue;
    turnRuns.set(w.workflowId, [...(turnRuns.get(w.workflowId) ?? []), w]);
  }
  const ordered = [...turnRuns.values()].map((runs) => ({ runs, records: runs.map((r) => runRecord(r.history)) }));
  ordered.sort((a, b) => (a.records[0].input as TurnInput).turn - (b.records[0].input as TurnInput).turn);
  const turns: TurnRun[] = [];
  for (const { runs, records } of ordered) turns.push(await buildTurn(runs, records, startedIn.get(runs[0].workflowId) ?? 0, reader));

  const first = sessionRecords[0]?.input as SessionInput | undefined;
  const last = sessionRecords[sessionRecords.length - 1];
  const sessionActivities = sessions.flatMap((s) => activityRecords(s.history));
  return {
    threadId: histories.threadId,
    status: last?.status ?? 'running',
    createdAt: iso(sessionRecords[0]?.startedAt ?? null),
    origin: first?.state?.origin ?? null,
    settings: first?.settings ?? null,
    usage: turns.reduce((sum, t) => addUsage(sum, t.usage), ZERO_USAGE),
    sessionRuns: sessions.map((s, i) => runView(s, sessionRecords[i])),
    sessionActivities: sessionActivities.map((a) => activityView(a, true)),
    turns,
    ...(first?.state?.checkpoint !== undefined ? { inheritedCheckpoint: first.state.checkpoint } : {}),
    rewinds: sessionActivities.filter((a) => a.name === 'restoreWorkspace' && a.outcome === 'completed').map(rewindView),
    sessionHostMoves: sessionHostMoves(sessions),
  };
}

/** A completed workspace reset of the session: a rewind. */
function rewindView(record: ActivityRecord): RewindView {
  const input = record.input as RestoreWorkspaceInput;
  return { to: input.to, beforeTurn: input.beforeTurn, checkpoint: input.checkpoint, head: input.head, activity: activityView(record) };
}

async function buildTurn(runs: RecordedWorkflow[], records: RunRecord[], sessionRun: number, reader: TranscriptReader): Promise<TurnRun> {
  const input = records[0].input as TurnInput;
  const lastRecord = records[records.length - 1];
  const result = lastRecord.status === 'completed' ? (lastRecord.result as TurnResult) : null;
  const steps: StepDraft[] = [];
  const tools = new Map<string, ToolActivity>();
  let pending: ActivityView[] = [];
  let setup: ActivityRecord | null = null;
  const checkpoints = new Map<number, CheckpointView>();
  const hostMoves = new HostMoveTracker();
  /** Steps whose response came with their previous call (runToolAndInfer). */
  const chainedSteps = new Map<number, InferenceInput>();
  /** Steps whose request's first attempt, sent with the previous call, failed: its error. */
  const chainedFailures = new Map<number, string>();
  for (const [runIndex, run] of runs.entries()) {
    let newRun = runIndex > 0 ? run.runId : null;
    for (const record of activityRecords(run.history)) {
      // A failover belongs to the step whose work it interrupted (0: the turn's start).
      if (hostMoves.observe(record, steps[steps.length - 1]?.step ?? 0)) continue;
      if (record.name === 'beginTurn') setup = record;
      else if (record.name === 'runInference') {
        // A chained response the turn did not use because the transcript changed (steering, a compaction).
        const request = record.input as InferenceInput;
        const chained = chainedSteps.get(request.step);
        chainedSteps.delete(request.step);
        const changed = chained !== undefined && (chained.head !== request.head || chained.append.join() !== request.append.join());
        // The request's first attempt failed inside the chained activity: it counts as one of this request's.
        const firstFailure = chainedFailures.get(request.step);
        chainedFailures.delete(request.step);
        const asRun = firstFailure === undefined ? record : { ...record, attempts: record.attempts + 1, lastRetryFailure: record.lastRetryFailure ?? `${firstFailure} (the attempt sent with the call)` };
        placeInference(steps, asRun, pending, newRun, changed ? 'response not used: the transcript changed before its step (a steering message or a compaction)' : undefined);
        pending = [];
        newRun = null;
      } else if (record.name === 'runTool') {
        const call = (record.input as RunToolInput).call;
        tools.set(call.callId, { record, fallback: null });
      } else if (record.name === 'runToolAndInfer') {
        // A call and the next request in one activity: shown as the two it stands for.
        const { call, next, settings, threadId, turn } = record.input as RunToolAndInferInput;
        const done = record.outcome === 'completed' ? (record.result as RunToolAndInferResult) : null;
        tools.set(call.callId, { record: { ...record, name: 'runTool', result: done?.tool ?? record.result }, fallback: null });
        const failure = done?.nextFailure;
        if (failure && !failure.nonRetryable) chainedFailures.set(next.step, failure.message);
        if (failure?.nonRetryable) {
          // The provider's final answer to the next request: shown as that request, failed.
          const request: InferenceInput = { threadId, turn, step: next.step, head: next.head, append: [done!.tool.outputHash], settings };
          placeInference(steps, { ...record, name: 'runInference', input: request, outcome: 'failed', result: null, failure: failure.message, failureType: failure.type ?? null }, pending, newRun);
          pending = [];
          newRun = null;
        }
        if (done?.next) {
          const request: InferenceInput = { threadId, turn, step: next.step, head: next.head, append: [done.tool.outputHash], settings };
          placeInference(steps, { ...record, name: 'runInference', input: request, result: done.next }, pending, newRun);
          chainedSteps.set(next.step, request);
          pending = [];
          newRun = null;
        }
      } else if (record.name === 'checkpointWorkspace') {
        checkpoints.set((record.input as CheckpointInput).step, checkpointView(record));
      } else if (record.name === 'storeToolOutput') {
        const callId = (record.input as { callId?: string }).callId ?? '';
        const tool = tools.get(callId);
        tools.set(callId, { record: tool?.record ?? null, fallback: record });
      } else {
        pending.push(activityView(record, true));
      }
    }
  }

  const turnCompaction = await reader.observe(input.head, null);
  const setupResult = setup?.outcome === 'completed' ? (setup.result as { head: string; abortedCalls: string[] }) : null;
  await reader.observe(setupResult?.head ?? null, null);
  const answers = new Map(runs.flatMap((run) => [...approvalRecords(run.history)]));
  const finished: StepRun[] = [];
  for (const draft of steps) {
    const step = await finishStep(draft, tools, reader);
    finished.push({ ...step, checkpoint: checkpoints.get(step.step) ?? null, toolCalls: step.toolCalls.map((call) => ({ ...call, approval: answers.has(call.callId) ? { decision: answers.get(call.callId)!.decision } : null })) });
  }

  const status = result?.status ?? (lastRecord.status === 'continued-as-new' ? 'running' : lastRecord.status);
  const error = result?.error ?? (lastRecord.failure ? { type: 'TurnWorkflowFailed', message: lastRecord.failure } : null);
  return {
    turn: input.turn,
    workflowId: runs[0].workflowId,
    runs: runs.map((r, i) => runView(r, records[i])),
    status,
    error,
    userText: await userTextOf(input, reader),
    startHead: input.head,
    endHead: result?.head ?? finished[finished.length - 1]?.outputHead ?? setupResult?.head ?? input.head,
    startedAt: iso(records[0].startedAt),
    closedAt: iso(lastRecord.closedAt),
    usage: result?.usage ?? finished.reduce((sum, s) => addUsage(sum, s.usage ?? ZERO_USAGE), ZERO_USAGE),
    abortedCalls: setupResult?.abortedCalls ?? [],
    startContext: input.context,
    sessionRun,
    setup: setup ? activityView(setup, true) : null,
    compaction: turnCompaction,
    steps: finished,
    startCheckpoint: checkpoints.get(0) ?? null,
    after: pending,
    hostMoves: hostMoves.moves(),
  };
}

/** Moves made between turns (a manual compaction read the workspace of a lost host). */
function sessionHostMoves(sessions: RecordedWorkflow[]): HostMoveView[] {
  const tracker = new HostMoveTracker();
  for (const session of sessions) for (const record of activityRecords(session.history)) tracker.observe(record, 0);
  return tracker.moves();
}

/** A checkpoint activity as the step's record of its files. */
function checkpointView(record: ActivityRecord): CheckpointView {
  const activity = activityView(record);
  if (record.outcome === 'scheduled') return { status: 'running', id: null, changeCount: 0, changes: [], reason: null, activity };
  if (record.outcome !== 'completed') return { status: 'skipped', id: null, changeCount: 0, changes: [], reason: `the checkpoint failed: ${record.failure ?? record.outcome}`, activity };
  const outcome = record.result as CheckpointOutcome;
  if (outcome.kind === 'skipped') return { status: 'skipped', id: null, changeCount: 0, changes: [], reason: outcome.reason, activity };
  if (outcome.kind === 'unchanged') return { status: 'unchanged', id: outcome.id, changeCount: 0, changes: [], reason: null, activity };
  return { status: 'created', id: outcome.id, changeCount: outcome.changeCount, changes: outcome.changes, reason: null, activity };
}

/** A turn's user message: in its input (older turns), or the stored item the input names ('' when it is missing). */
async function userTextOf(input: TurnInput, reader: TranscriptReader): Promise<string> {
  if (input.userText !== undefined) return input.userText;
  const item = await reader.item(input.userItem);
  return item?.type === 'message' ? messageText(item) : '';
}

/**
 * Adds an inference to its step: a new step, or a retry of a step whose request failed
 * or whose response the turn rejected (its calls repeated a call_id).
 */
function placeInference(steps: StepDraft[], record: ActivityRecord, before: ActivityView[], newRun: string | null, replacedBecause = 'response rejected: its calls repeat a call_id'): void {
  const input = record.input as InferenceInput;
  const view = activityView(record);
  const result = record.outcome === 'completed' ? (record.result as InferenceResult) : null;
  const request = { head: input.head, append: [...input.append], inputItems: result?.inputItems ?? null, inputBytes: result?.inputBytes ?? null, settings: input.settings ?? null };
  const existing = steps.find((s) => s.step === input.step);
  if (existing) {
    const rejected = existing.inference.outcome === 'completed' ? { ...existing.inference, failure: replacedBecause } : existing.inference;
    existing.rejected.push(rejected);
    existing.before.push(...before);
    Object.assign(existing, { inference: view, request, result, usage: result?.usage ?? null, responseId: result?.responseId ?? null, outputHead: result?.head ?? null });
    return;
  }
  steps.push({
    id: `${input.turn}.${input.step}`,
    turn: input.turn,
    step: input.step,
    request,
    inference: view,
    rejected: [],
    usage: result?.usage ?? null,
    responseId: result?.responseId ?? null,
    outputHead: result?.head ?? null,
    reasoning: [],
    messages: [],
    toolCalls: [],
    before: [...before],
    compaction: null,
    checkpoint: null,
    newRun,
    result,
  });
}

async function finishStep(draft: StepDraft, tools: Map<string, ToolActivity>, reader: TranscriptReader): Promise<StepRun> {
  const compactionActivity = [...draft.before].reverse().find((a) => /compact/i.test(a.name)) ?? null;
  const compaction = await reader.observe(draft.request.head, compactionActivity);
  await reader.observe(draft.outputHead, null);
  const { result, ...step } = draft;
  const texts = await outputTexts(result?.outputs ?? [], reader);
  const toolCalls: ToolCallRun[] = [];
  for (const call of result?.calls ?? []) toolCalls.push(await toolCallRun(call, tools.get(call.callId), reader));
  return { ...step, ...texts, toolCalls, compaction };
}

async function outputTexts(outputs: readonly OutputRef[], reader: TranscriptReader): Promise<{ reasoning: string[]; messages: string[] }> {
  const reasoning: string[] = [];
  const messages: string[] = [];
  for (const ref of outputs) {
    // A hosted web search is neither (show lists it by its excerpt nowhere yet).
    if (ref.type === 'web_search') continue;
    const item = await reader.item(ref.hash);
    if (ref.type === 'reasoning') reasoning.push(item?.type === 'reasoning' ? item.summary.map((s) => s.text).join('\n') : ref.excerpt);
    else messages.push(item?.type === 'message' ? messageText(item) : ref.excerpt);
  }
  return { reasoning, messages };
}

async function toolCallRun(call: ToolCallRef, tool: ToolActivity | undefined, reader: TranscriptReader): Promise<ToolCallRun> {
  const item = await reader.item(call.itemHash);
  const args = item?.type === 'function_call' ? item.arguments : item?.type === 'custom_tool_call' ? item.input : null;
  const base = { callId: call.callId, name: call.name, arguments: args, summary: call.summary, itemHash: call.itemHash };
  if (!tool) {
    return { ...base, status: 'not-run', exitCode: null, durationMs: null, output: null, outputHash: null, metadata: null, fallbackOutput: false, activity: null };
  }
  const fallbackHash = tool.fallback?.outcome === 'completed' ? (tool.fallback.result as string) : null;
  if (!tool.record) {
    // Never ran (denied, refused, timed out): the workflow recorded why as its output.
    const output = TOOL_OUTPUT_FIELD(await reader.item(fallbackHash));
    return { ...base, status: 'not-run', exitCode: null, durationMs: null, output, outputHash: fallbackHash, metadata: null, fallbackOutput: fallbackHash !== null, activity: null };
  }
  const activity = activityView(tool.record);
  const done = tool.record.outcome === 'completed' ? (tool.record.result as RunToolResult) : null;
  const outputHash = done?.outputHash ?? fallbackHash;
  const metadata = done?.metadata ?? null;
  const status = done
    ? done.interrupted ? 'interrupted' : done.success ? 'completed' : 'failed'
    : tool.record.outcome === 'scheduled' ? 'running' : 'failed';
  return {
    ...base,
    status,
    exitCode: typeof metadata?.exitCode === 'number' ? metadata.exitCode : null,
    durationMs: typeof metadata?.durationMs === 'number' ? metadata.durationMs : activity.durationMs,
    output: TOOL_OUTPUT_FIELD(await reader.item(outputHash)),
    outputHash,
    metadata,
    fallbackOutput: !done && fallbackHash !== null,
    activity,
  };
}
