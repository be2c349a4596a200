/**
 * A thread's headline facts (turns, tokens, last message, origin) read from the
 * history of its latest session run: the state it started with (carried across
 * continue-as-new) plus the turns it ran since. Used by `unroll threads` when the
 * session cannot be asked directly (no worker is polling, or the workflow is closed).
 */
import type { Usage } from '../items/schemas';
import { addUsage, ZERO_USAGE } from '../items/usage';
import type { SessionInput, ThreadOrigin, TurnInput, TurnResult } from '../workflows/definitions';
import { eventId, firstPayload, int64, type History } from './history-events';

/** What `unroll threads` shows of a thread beyond its status. */
export interface SessionSummary {
  readonly turns: number;
  readonly runningTurn: number | null;
  readonly usage: Usage;
  readonly lastMessage: string | null;
  readonly origin: ThreadOrigin | null;
  /** The host the thread is pinned to; null for a thread from before pins. */
  readonly host: string | null;
}

/** Summarises the latest session run's history. */
export function summarizeSessionRun(history: History): SessionSummary {
  const events = history.events ?? [];
  const input = firstPayload(events[0]?.workflowExecutionStartedEventAttributes?.input, 'the session input') as SessionInput | undefined;
  const state = input?.state;
  let turns = state?.turns ?? 0;
  let usage = state?.usage ?? ZERO_USAGE;
  let lastMessage = state?.lastTurn?.lastMessage?.excerpt ?? null;
  const open = new Map<number, number>();
  for (const event of events) {
    const initiated = event.startChildWorkflowExecutionInitiatedEventAttributes;
    if (initiated) {
      const turn = (firstPayload(initiated.input, `event ${eventId(event)}`) as TurnInput | undefined)?.turn ?? turns + 1;
      open.set(eventId(event), turn);
      turns = Math.max(turns, turn);
      continue;
    }
    const completed = event.childWorkflowExecutionCompletedEventAttributes;
    if (completed) {
      const result = firstPayload(completed.result, `event ${eventId(event)}`) as TurnResult | undefined;
      if (result) {
        usage = addUsage(usage, result.usage);
        if (result.lastMessage) lastMessage = result.lastMessage.excerpt;
      }
      open.delete(int64(completed.initiatedEventId));
      continue;
    }
    const closed = event.childWorkflowExecutionFailedEventAttributes ?? event.childWorkflowExecutionTerminatedEventAttributes ?? event.childWorkflowExecutionTimedOutEventAttributes ?? event.childWorkflowExecutionCanceledEventAttributes;
    if (closed) open.delete(int64(closed.initiatedEventId));
  }
  const running = [...open.values()];
  return { turns, runningTurn: running.length > 0 ? Math.max(...running) : null, usage, lastMessage, origin: state?.origin ?? null, host: input?.settings.host?.id ?? null };
}
