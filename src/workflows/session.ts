/**
 * SessionWorkflow: one per thread (workflow id = thread id). It owns the thread's
 * settings, its transcript head, the turn count, token totals and the context estimate.
 * User input arrives as the `submitInput` update (update-with-start for a new thread);
 * each input becomes a child TurnWorkflow, one turn at a time, in arrival order. A
 * settings change that comes with an input (model, reasoning, approval policy, cwd)
 * applies from that turn on and is announced to the model by the turn, never edited into
 * earlier messages. The `compact` update compacts the transcript between turns.
 * Between turns it continues-as-new when Temporal suggests it, carrying its small state.
 */
import {
  ChildWorkflowFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  getExternalWorkflowHandle,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { SessionSettings } from '../config/settings';
import { addUsage, ZERO_USAGE } from '../items/usage';
import { NO_CONTEXT } from '../shared/context-state';
import { turnWorkflowId } from '../shared/ids';
import { compactionOptions, storeOptions } from './activity-options';
import { validateUserText } from './decisions';
import {
  compactUpdate,
  MAX_USER_INPUT_BYTES,
  sendInputUpdate,
  sessionQuery,
  steerSignal,
  submitInputUpdate,
  type CompactionSummary,
  type SessionInput,
  type SessionState,
  type SettingsChange,
  type TurnResult,
  type TurnSummary,
} from './definitions';
import { TurnWorkflow } from './turn';

type QueuedWork =
  | { readonly kind: 'turn'; readonly turn: number; readonly text: string; readonly settings?: SettingsChange }
  | { readonly kind: 'compact'; readonly id: number };

const EMPTY_STATE: SessionState = { head: null, turns: 0, usage: ZERO_USAGE, context: NO_CONTEXT, lastTurn: null, contextTokens: 0 };

export async function SessionWorkflow(input: SessionInput): Promise<SessionState> {
  const { threadId } = input;
  let settings: SessionSettings = input.settings;
  let state: SessionState = input.state ?? EMPTY_STATE;
  const store = proxyActivities<Activities>(storeOptions(settings.timings));
  const queue: QueuedWork[] = [];
  let nextTurn = state.turns + 1;
  let runningTurn: number | null = null;
  let startedThrough = state.turns;
  let nextCompaction = 1;
  const compactions = new Map<number, CompactionSummary | Error>();

  setHandler(sessionQuery, () => ({ ...state, threadId, settings, runningTurn, queuedInputs: queue.length }));
  const validateInput = (args: unknown) => {
    const problem = validateUserText((args as { text?: unknown } | undefined)?.text, MAX_USER_INPUT_BYTES);
    if (problem) throw new Error(problem);
  };
  const queueTurn = async (text: string, change: SettingsChange | undefined) => {
    const turn = nextTurn++;
    queue.push({ kind: 'turn', turn, text, ...(change ? { settings: change } : {}) });
    await condition(() => startedThrough >= turn);
    return { turn, turnWorkflowId: turnWorkflowId(threadId, turn) };
  };
  setHandler(submitInputUpdate, async ({ text, settings: change }) => queueTurn(text, change), { validator: validateInput });
  setHandler(
    sendInputUpdate,
    async ({ text, settings: change }) => {
      if (runningTurn !== null && !change) {
        const turn = runningTurn;
        try {
          await getExternalWorkflowHandle(turnWorkflowId(threadId, turn)).signal(steerSignal, { text });
          return { delivered: 'running-turn' as const, turn, turnWorkflowId: turnWorkflowId(threadId, turn) };
        } catch {
          // The turn ended in the meantime: the message starts the next turn instead.
        }
      }
      return { delivered: 'new-turn' as const, ...(await queueTurn(text, change)) };
    },
    { validator: validateInput },
  );
  setHandler(
    compactUpdate,
    async () => {
      const id = nextCompaction++;
      queue.push({ kind: 'compact', id });
      await condition(() => compactions.has(id));
      const outcome = compactions.get(id)!;
      compactions.delete(id);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
    {
      validator: () => {
        if (state.head === null && runningTurn === null && !queue.some((w) => w.kind === 'turn')) throw new Error('the thread has no transcript to compact yet');
      },
    },
  );

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
    if (next.settings) settings = applyChange(settings, next.settings);
    runningTurn = next.turn;
    const child = await startChild(TurnWorkflow, {
      workflowId: turnWorkflowId(threadId, next.turn),
      args: [{
        threadId, turn: next.turn, head: state.head, settings, userText: next.text, context: state.context,
        contextTokens: state.contextTokens, approvedForSession: state.approvedForSession ?? [],
      }],
      staticSummary: `turn ${next.turn}: ${next.text.replace(/\s+/g, ' ').slice(0, 80)}`,
    });
    startedThrough = next.turn;
    let result = await turnOutcome(child.result());
    if (result.head === null) {
      // The turn workflow died without a result: pick up what it recorded.
      const recovered = await store.recoverTurnHead({ threadId, turn: next.turn });
      if (recovered !== null) result = { ...result, head: recovered };
    }
    const died = result.error?.type === 'TurnWorkflowFailed';
    state = {
      head: result.head ?? state.head,
      turns: next.turn,
      usage: addUsage(state.usage, result.usage),
      context: died ? state.context : result.context,
      lastTurn: summarize(next.turn, result),
      contextTokens: died ? state.contextTokens : result.contextTokens,
      approvedForSession: result.approvedForSession ?? state.approvedForSession ?? [],
      origin: state.origin,
    };
    runningTurn = null;
  }

  async function compactNow(): Promise<CompactionSummary | Error> {
    if (state.head === null) return new Error('the thread has no transcript to compact yet');
    const compactor = proxyActivities<Activities>(compactionOptions(settings.timings));
    const result = await compactor.compactTranscript.executeWithOptions({ ...compactionOptions(settings.timings), summary: 'compaction (manual)' }, [
      { threadId, turn: 0, head: state.head, settings, reason: 'manual' },
    ]);
    state = { ...state, head: result.head, context: result.context, contextTokens: result.tokensAfter, usage: addUsage(state.usage, result.usage) };
    const { head, mode, reason, tokensBefore, tokensAfter, droppedItems } = result;
    return { head, mode, reason, tokensBefore, tokensAfter, droppedItems };
  }
}

/** The thread's settings with a user's change applied. */
function applyChange(settings: SessionSettings, change: SettingsChange): SessionSettings {
  return {
    ...settings,
    ...(change.model !== undefined ? { model: change.model } : {}),
    ...(change.reasoningEffort !== undefined ? { reasoningEffort: change.reasoningEffort } : {}),
    ...(change.approvalPolicy !== undefined ? { approvalPolicy: change.approvalPolicy } : {}),
    ...(change.cwd !== undefined ? { cwd: change.cwd } : {}),
  };
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
      error: { type: 'TurnWorkflowFailed', message: err.cause?.message ?? err.message },
      contextTokens: 0,
      compactions: 0,
    };
  }
}

function summarize(turn: number, result: TurnResult): TurnSummary {
  return { turn, status: result.status, steps: result.steps, usage: result.usage, lastMessage: result.lastMessage, error: result.error };
}
