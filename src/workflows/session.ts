/**
 * SessionWorkflow: one per thread (workflow id = thread id). It owns the thread's
 * settings, its transcript head, the turn count, token totals and the context estimate.
 * User input arrives as the `submitInput` update (update-with-start for a new thread);
 * each input becomes a child TurnWorkflow, one turn at a time, in arrival order. A
 * settings change that comes with an input (model, reasoning, approval policy, cwd)
 * applies from that turn on and is announced to the model by the turn, never edited into
 * earlier messages. The `compact` update compacts the transcript between turns; a
 * compaction the provider refuses fails that update only, never the session.
 *
 * The user's text is in history once, as the argument of the update that brings it: the
 * session stores it with a local activity (whose input is not recorded) and hands the
 * turn, or the running turn's steering signal, the stored message's hash. A new thread
 * whose first input the validator refused (empty, over MAX_USER_INPUT_BYTES) ends at
 * once rather than wait forever as an empty session.
 * Between turns it continues-as-new when Temporal suggests it, carrying its small state.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  getExternalWorkflowHandle,
  startChild,
  TemporalFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { HostMove } from '../activities/failover';
import type { SessionSettings } from '../config/settings';
import { addUsage, ZERO_USAGE } from '../items/usage';
import { NO_CONTEXT } from '../shared/context-state';
import { workspaceTaskQueue } from '../shared/hosts';
import { turnWorkflowId } from '../shared/ids';
import type { McpStartupFailure } from '../activities/types';
import { mcpListingOptions, storeOptions, userTextStoreOptions } from './activity-options';
import { validateUserText } from './decisions';
import {
  compactUpdate,
  HANDLER_DESCRIPTIONS,
  MAX_USER_INPUT_BYTES,
  sendInputUpdate,
  sessionQuery,
  steerSignal,
  submitInputUpdate,
  rewindUpdate,
  type RewindArgs,
  type RewindResult,
  type ManualCompaction,
  type SessionInput,
  type SessionState,
  type SettingsChange,
  type SteerInput,
  type TurnResult,
  type TurnSummary,
} from './definitions';
import { TurnWorkflow } from './turn';
import { compactOnSharedQueue, relocated, type PinnedThread } from './workspace';
import { resetThreadWorkspace, rewindArgsProblem } from './rewind';
import { markTurn } from './search-attributes';

type QueuedWork =
  /** `item`: the text is already stored (a steering message that arrived as a turn ended). */
  | { readonly kind: 'turn'; readonly turn: number; readonly text: string; readonly item?: string; readonly settings?: SettingsChange }
  | { readonly kind: 'compact'; readonly id: number }
  | { readonly kind: 'rewind'; readonly id: number; readonly args: RewindArgs };

/**
 * Patch ids (see `patched()`): histories recorded before each change replay the old way.
 * - USER_TEXT_BY_REFERENCE: the user's text goes to the turn as a stored item's hash.
 * - END_WITHOUT_INPUT: a new session whose first input was refused ends at once.
 */
const USER_TEXT_BY_REFERENCE = 'user-text-by-reference';
const END_WITHOUT_INPUT = 'end-session-without-input';

/** Characters of the user's text kept in summaries and progress events. */
const EXCERPT_CHARS = 80;

const EMPTY_STATE: SessionState = { head: null, turns: 0, usage: ZERO_USAGE, context: NO_CONTEXT, lastTurn: null, contextTokens: 0 };

export async function SessionWorkflow(input: SessionInput): Promise<SessionState> {
  const { threadId } = input;
  let settings: SessionSettings = input.settings;
  let state: SessionState = input.state ?? EMPTY_STATE;
  const store = proxyActivities<Activities>(storeOptions(settings.timings));
  const localStore = proxyLocalActivities<Activities>(userTextStoreOptions(settings.timings));
  const queue: QueuedWork[] = [];
  let nextTurn = state.turns + 1;
  let runningTurn: number | null = null;
  let startedThrough = state.turns;
  let nextCompaction = 1;
  const compactions = new Map<number, ManualCompaction | ApplicationFailure>();
  const rewinds = new Map<number, RewindResult | ApplicationFailure>();
  let mcpFailures: McpStartupFailure[] = [];

  setHandler(sessionQuery, () => ({ ...state, threadId, settings, runningTurn, queuedInputs: queue.length, ...(mcpFailures.length > 0 ? { mcpFailures } : {}) }), { description: HANDLER_DESCRIPTIONS.session });
  const validateInput = (args: unknown) => {
    const problem = validateUserText((args as { text?: unknown } | undefined)?.text, MAX_USER_INPUT_BYTES);
    if (problem) throw new Error(problem);
    const item = (args as { item?: unknown } | undefined)?.item;
    if (item !== undefined && (typeof item !== 'string' || !/^[0-9a-f]{64}$/.test(item))) throw new Error('input item must be the 64-hex-digit hash of a stored user message');
  };
  const queueTurn = async (text: string, change: SettingsChange | undefined, item?: string) => {
    const turn = nextTurn++;
    queue.push({ kind: 'turn', turn, text, ...(item !== undefined ? { item } : {}), ...(change ? { settings: change } : {}) });
    await condition(() => startedThrough >= turn);
    return { turn, turnWorkflowId: turnWorkflowId(threadId, turn) };
  };
  setHandler(submitInputUpdate, async ({ text, settings: change, item }) => queueTurn(text, change, item), { validator: validateInput, description: HANDLER_DESCRIPTIONS.submitInput });
  setHandler(
    sendInputUpdate,
    async ({ text, settings: change }) => {
      let stored: string | undefined;
      if (runningTurn !== null && !change) {
        const turn = runningTurn;
        const steer = await steerInput(text);
        if ('item' in steer) stored = steer.item;
        try {
          await getExternalWorkflowHandle(turnWorkflowId(threadId, turn)).signal(steerSignal, steer);
          return { delivered: 'running-turn' as const, turn, turnWorkflowId: turnWorkflowId(threadId, turn) };
        } catch {
          // The turn ended in the meantime: the message starts the next turn instead.
        }
      }
      return { delivered: 'new-turn' as const, ...(await queueTurn(text, change, stored)) };
    },
    { validator: validateInput, description: HANDLER_DESCRIPTIONS.sendInput },
  );
  setHandler(
    compactUpdate,
    async () => {
      const id = nextCompaction++;
      queue.push({ kind: 'compact', id });
      await condition(() => compactions.has(id));
      const outcome = compactions.get(id)!;
      compactions.delete(id);
      if (outcome instanceof ApplicationFailure) throw outcome;
      return outcome;
    },
    {
      description: HANDLER_DESCRIPTIONS.compact,
      validator: () => {
        if (state.head === null && runningTurn === null && !queue.some((w) => w.kind === 'turn')) throw new Error('the thread has no transcript to compact yet');
      },
    },
  );

  setHandler(
    rewindUpdate,
    async (args) => {
      const id = nextCompaction++;
      queue.push({ kind: 'rewind', id, args });
      await condition(() => rewinds.has(id));
      const outcome = rewinds.get(id)!;
      rewinds.delete(id);
      if (outcome instanceof ApplicationFailure) throw outcome;
      return outcome;
    },
    {
      description: HANDLER_DESCRIPTIONS.rewind,
      validator: (args: unknown) => {
        const problem = rewindArgsProblem(args);
        if (problem) throw new Error(problem);
        if (runningTurn !== null) throw new Error(`turn ${runningTurn} is running: wait for it to end (or interrupt it) before rewinding`);
        if (queue.some((w) => w.kind === 'turn')) throw new Error('a turn is waiting to start: rewind after it has run');
      },
    },
  );

  // A first input that came with the start (update-with-start) has been validated and
  // queued by now, while the handlers were set. A new session without one has nothing to
  // do and nothing can reach it: the client was told why its input was refused.
  if (input.state === undefined && queue.length === 0 && patched(END_WITHOUT_INPUT)) return state;

  for (;;) {
    await condition(() => queue.length > 0 || workflowInfo().continueAsNewSuggested);
    const next = queue.shift();
    if (!next) {
      await condition(allHandlersFinished);
      if (queue.length === 0) return continueAsNew<typeof SessionWorkflow>({ threadId, settings, state });
      continue;
    }
    if (next.kind === 'compact') {
      compactions.set(next.id, await compactNow());
      continue;
    }
    if (next.kind === 'rewind') {
      const done = await resetThreadWorkspace(threadId, settings, next.args, state.turns + 1);
      if (!(done instanceof ApplicationFailure)) {
        const { head, context, contextTokens, checkpoint } = next.args;
        state = { ...state, head, context, contextTokens, checkpoint };
      }
      rewinds.set(next.id, done instanceof ApplicationFailure ? done : { ...done, nextTurn: state.turns + 1 });
      continue;
    }
    if (next.settings) settings = applyChange(settings, next.settings);
    // Data only: threads without MCP servers (every recorded history) never list.
    if (settings.mcpServers !== undefined && settings.tools && settings.tools.dynamic === undefined) await listMcpTools();
    const user = next.item !== undefined ? { userItem: next.item } : await userMessage(next.text);
    runningTurn = next.turn;
    markTurn(settings, 'running');
    const child = await startChild(TurnWorkflow, {
      workflowId: turnWorkflowId(threadId, next.turn),
      args: [{
        threadId, turn: next.turn, head: state.head, settings, ...user, context: state.context,
        contextTokens: state.contextTokens, approvedForSession: state.approvedForSession ?? [],
        ...(state.checkpoint !== undefined ? { checkpoint: state.checkpoint } : {}),
      }],
      staticSummary: `turn ${next.turn}: ${excerpt(next.text)}`,
    });
    startedThrough = next.turn;
    let result = await turnOutcome(child.result());
    // An interrupted turn with no head was stopped before it wrote anything of its own.
    if (result.head === null && result.status !== 'interrupted') {
      // The turn workflow died without a result: pick up what it recorded.
      const recovered = await store.recoverTurnHead({ threadId, turn: next.turn });
      if (recovered !== null) result = { ...result, head: recovered };
    }
    const died = result.error?.type === 'TurnWorkflowFailed';
    // The turn moved the thread off a lost host: later turns run where it lives now. (Only
    // a turn that moved reports a relocation, so older histories take the same path.)
    if (result.relocation) settings = { ...settings, host: result.relocation.host, toolTaskQueue: result.relocation.host.taskQueue, cwd: result.relocation.cwd };
    state = {
      head: result.head ?? state.head,
      turns: next.turn,
      usage: addUsage(state.usage, result.usage),
      context: died ? state.context : result.context,
      lastTurn: summarize(next.turn, result),
      contextTokens: died ? state.contextTokens : result.contextTokens,
      approvedForSession: result.approvedForSession ?? state.approvedForSession ?? [],
      origin: state.origin,
      ...(result.checkpoint !== undefined ? { checkpoint: result.checkpoint } : state.checkpoint !== undefined ? { checkpoint: state.checkpoint } : {}),
    };
    runningTurn = null;
    markTurn(settings, result.status);
  }

  /**
   * Starts the thread's MCP servers on its host and adds their tools to the thread's tool
   * list, once, before its first turn (src/activities/mcp.ts). Servers that fail are
   * reported through the session query; if the listing itself fails, the thread goes on
   * with its built-in tools and says why.
   */
  async function listMcpTools(): Promise<void> {
    const options = mcpListingOptions(settings.timings, workspaceTaskQueue(settings));
    try {
      const listed = await proxyActivities<Activities>(options).listMcpTools.executeWithOptions({ ...options, summary: 'mcp: start servers and list tools' }, [{ threadId, settings }]);
      settings = { ...settings, tools: listed.tools };
      mcpFailures = listed.failures;
    } catch (err) {
      if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
      settings = { ...settings, tools: { ...settings.tools!, dynamic: {} } };
      mcpFailures = [{ server: '*', message: `the MCP servers (mcp_servers) could not be listed: ${err.cause?.message ?? err.message}` }];
    }
  }

  /**
   * The user's text as the hash of a stored message, so the text stays out of the turn's
   * input; the text itself when it cannot be stored (the turn's start then meets the
   * store's trouble, where an interrupt can end it) or in histories from before.
   */
  async function userMessage(text: string): Promise<{ userItem: string } | { userText: string }> {
    if (!patched(USER_TEXT_BY_REFERENCE)) return { userText: text };
    try {
      return { userItem: await localStore.storeMessage({ role: 'user', text }) };
    } catch (err) {
      // A local activity's failure arrives as the activity's own failure, not wrapped.
      if (!(err instanceof TemporalFailure) || isCancellation(err)) throw err;
      return { userText: text };
    }
  }

  /** A steering message for the running turn, by reference when it can be stored. */
  async function steerInput(text: string): Promise<SteerInput> {
    const user = await userMessage(text);
    return 'userItem' in user ? { item: user.userItem, excerpt: excerpt(text) } : { text };
  }

  /**
   * Compacts between turns. Whatever the provider answers (401, a rejected request, an
   * outage that outlasts the retries) fails only the `compact` update: the failure is
   * returned, and the session keeps its head and goes on. Its read of the workspace
   * context on the pinned host fails over like a turn's (src/workflows/workspace.ts): a
   * lost host's thread moves to a live worker, which later turns then use too, and the
   * update's result says so.
   */
  async function compactNow(): Promise<ManualCompaction | ApplicationFailure> {
    if (state.head === null) return ApplicationFailure.create({ type: 'NothingToCompact', message: 'the thread has no transcript to compact yet', nonRetryable: true });
    let result;
    let moved: HostMove | undefined;
    const pinned: PinnedThread = {
      threadId,
      turn: state.turns,
      settings: () => settings,
      latestCheckpoint: () => (state.checkpoint ? { id: state.checkpoint, turn: null, step: null } : null),
      moved: (move) => {
        settings = relocated(settings, move);
        moved = move;
      },
    };
    try {
      result = await compactOnSharedQueue({ threadId, turn: 0, head: state.head, settings, reason: 'manual' }, 'compaction (manual)', pinned);
    } catch (err) {
      if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
      const cause = err.cause;
      return ApplicationFailure.create({
        type: cause instanceof ApplicationFailure && cause.type ? cause.type : 'CompactionFailed',
        message: `compaction failed, the thread is unchanged: ${cause?.message ?? err.message}`,
        nonRetryable: true,
      });
    }
    state = { ...state, head: result.head, context: result.context, contextTokens: result.tokensAfter, usage: addUsage(state.usage, result.usage) };
    const { head, mode, reason, tokensBefore, tokensAfter, droppedItems } = result;
    return { head, mode, reason, tokensBefore, tokensAfter, droppedItems, ...(moved ? { moved } : {}) };
  }
}

/** The first characters of a user's text, on one line, for summaries and events. */
function excerpt(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, EXCERPT_CHARS);
}

/** The thread's settings with a user's change applied. */
function applyChange(settings: SessionSettings, change: SettingsChange): SessionSettings {
  const next: SessionSettings = {
    ...settings,
    ...(change.model !== undefined ? { model: change.model } : {}),
    ...(change.reasoningEffort !== undefined ? { reasoningEffort: change.reasoningEffort } : {}),
    ...(change.approvalPolicy !== undefined ? { approvalPolicy: change.approvalPolicy } : {}),
    ...(change.cwd !== undefined ? { cwd: change.cwd } : {}),
    ...(change.sandboxMode !== undefined ? { sandboxMode: change.sandboxMode } : {}),
  };
  // Data only (no commands): older histories never carry the key, so they replay unchanged.
  if (change.outputSchema === undefined) return next;
  const { outputSchema: _previous, ...rest } = next;
  return change.outputSchema === null ? rest : { ...rest, outputSchema: change.outputSchema };
}

/** A turn workflow that itself failed (a bug, a termination) still yields a summary. */
async function turnOutcome(result: Promise<TurnResult>): Promise<TurnResult> {
  try {
    return await result;
  } catch (err) {
    if (!(err instanceof ChildWorkflowFailure)) throw err;
    return {
      status: 'failed',
      head: null,
      context: NO_CONTEXT,
      lastMessage: null,
      usage: ZERO_USAGE,
      steps: 0,
      error: { type: 'TurnWorkflowFailed', message: innermostMessage(err) },
      contextTokens: 0,
      compactions: 0,
    };
  }
}

/** The deepest cause's message: "Activity task failed" wrappers say nothing to the user. */
function innermostMessage(err: Error): string {
  let cursor: Error = err;
  while (cursor.cause instanceof Error) cursor = cursor.cause;
  return cursor.message || err.message;
}

function summarize(turn: number, result: TurnResult): TurnSummary {
  return { turn, status: result.status, steps: result.steps, usage: result.usage, lastMessage: result.lastMessage, error: result.error };
}
