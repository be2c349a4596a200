/**
 * SessionWorkflow: one per thread (workflow id = thread id). It owns the thread's
 * settings, its transcript head, the turn count and token totals. User input arrives as
 * the `submitInput` update (update-with-start for a new thread); each input becomes a
 * child TurnWorkflow, one turn at a time, in arrival order. Between turns it
 * continues-as-new when Temporal suggests it, carrying only its small state.
 */
import {
  ChildWorkflowFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NO_CONTEXT } from '../shared/context-state';
import { storeOptions } from './activity-options';
import { addUsage, ZERO_USAGE } from '../items/usage';
import { turnWorkflowId } from '../shared/ids';
import { validateUserText } from './decisions';
import {
  MAX_USER_INPUT_BYTES,
  sessionQuery,
  submitInputUpdate,
  type SessionInput,
  type SessionState,
  type TurnResult,
  type TurnSummary,
} from './definitions';
import { TurnWorkflow } from './turn';

interface QueuedInput {
  readonly turn: number;
  readonly text: string;
}

export async function SessionWorkflow(input: SessionInput): Promise<SessionState> {
  const { threadId, settings } = input;
  let state: SessionState = input.state ?? { head: null, turns: 0, usage: ZERO_USAGE, context: NO_CONTEXT, lastTurn: null };
  const store = proxyActivities<Activities>(storeOptions(settings.timings));
  const queue: QueuedInput[] = [];
  let nextTurn = state.turns + 1;
  let runningTurn: number | null = null;
  let startedThrough = state.turns;

  setHandler(sessionQuery, () => ({ ...state, threadId, settings, runningTurn, queuedInputs: queue.length }));
  setHandler(
    submitInputUpdate,
    async ({ text }) => {
      const turn = nextTurn++;
      queue.push({ turn, text });
      await condition(() => startedThrough >= turn);
      return { turn, turnWorkflowId: turnWorkflowId(threadId, turn) };
    },
    {
      validator: (args: unknown) => {
        const problem = validateUserText((args as { text?: unknown } | undefined)?.text, MAX_USER_INPUT_BYTES);
        if (problem) throw new Error(problem);
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
    runningTurn = next.turn;
    const child = await startChild(TurnWorkflow, {
      workflowId: turnWorkflowId(threadId, next.turn),
      args: [{ threadId, turn: next.turn, head: state.head, settings, userText: next.text, context: state.context }],
      staticSummary: `turn ${next.turn}: ${next.text.replace(/\s+/g, ' ').slice(0, 80)}`,
    });
    startedThrough = next.turn;
    let result = await turnOutcome(child.result());
    if (result.head === null) {
      // The turn workflow died without a result: pick up what it recorded.
      const recovered = await store.recoverTurnHead({ threadId, turn: next.turn });
      if (recovered !== null) result = { ...result, head: recovered };
    }
    state = {
      head: result.head ?? state.head,
      turns: next.turn,
      usage: addUsage(state.usage, result.usage),
      context: result.status === 'failed' && result.error?.type === 'TurnWorkflowFailed' ? state.context : result.context,
      lastTurn: summarize(next.turn, result),
    };
    runningTurn = null;
  }
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
    };
  }
}

function summarize(turn: number, result: TurnResult): TurnSummary {
  return { turn, status: result.status, steps: result.steps, usage: result.usage, lastMessage: result.lastMessage, error: result.error };
}
