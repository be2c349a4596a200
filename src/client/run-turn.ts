/**
 * Running and watching turns for `unroll exec` and `unroll resume`: submit the input,
 * follow the turn's progress, print it (human or JSONL) and map the outcome to an exit
 * code. What the turn waits for (a server outage, a retried step, a missing worker) is
 * told as it happens: a line on stderr, or an `error` event in `--json` (as `codex exec
 * --json` reports its reconnects). A turn whose record cannot be read in full is never
 * reported as a plain success.
 */
import type { Client } from '@temporalio/client';
import type { Usage } from '../items/schemas';
import type { TranscriptStore } from '../store/transcript-store';
import type { TurnEvent, TurnResult } from '../workflows/definitions';
import { ExecEventTranslator, type ExecEvent } from './exec-events';
import type { HumanOutput } from './human-output';
import { followTurn, TurnProgressUnreadableError } from './threads';
import type { WaitNotice } from './turn-waits';

/** Where events go: JSON lines on stdout, or the human renderer. */
export type EventSink = { kind: 'json'; out: NodeJS.WritableStream } | { kind: 'human'; view: HumanOutput };

/** Writes one event to the sink. */
export function emit(sink: EventSink, event: ExecEvent): void {
  if (sink.kind === 'json') sink.out.write(`${JSON.stringify(event)}\n`);
  else sink.view.event(event);
}

/**
 * Tells the user what a turn waits for: an `error` event in JSON (the turn goes on), a
 * line otherwise. A retried model request is told in JSON as `codex exec --json` tells
 * it, `Reconnecting... <n>/∞ (<why>)`: Unroll retries without limit where Codex stops at 5.
 */
export function notice(sink: EventSink, message: string, detail?: WaitNotice): void {
  if (sink.kind !== 'json') {
    sink.view.notice(message);
    return;
  }
  const retry = detail?.providerRetry;
  if (retry) {
    const wait = retry.nextInSeconds !== null ? `; next attempt in ${retry.nextInSeconds} s` : '';
    emit(sink, { type: 'error', message: `Reconnecting... ${retry.retry}/∞ (${retry.reason}${wait})` });
    return;
  }
  emit(sink, { type: 'error', message });
}

/**
 * A turn ended, but parts of its record could not be read (store objects missing or
 * corrupt on this machine), so what was shown is incomplete: the CLI exits 1.
 */
export class TurnNotReadableError extends Error {
  override readonly name = 'TurnNotReadableError';
  constructor(
    readonly turnWorkflowId: string,
    readonly result: TurnResult,
    readonly problems: readonly string[],
  ) {
    super(
      `turn ${turnWorkflowId} ended (${result.status}), but ${problems.length === 1 ? 'part of it' : `${problems.length} parts of it`} could not be read, so what was shown is incomplete: ${problems[0]}` +
        (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''),
    );
  }
}

function describeEvent(event: TurnEvent): string {
  switch (event.kind) {
    case 'output':
      return `the ${event.ref.type === 'agent_message' ? 'message' : event.ref.type === 'web_search' ? 'web search' : 'reasoning'} of step ${event.step}`;
    case 'tool.completed':
      return `the output of ${event.name} call ${event.callId} (step ${event.step})`;
    default:
      return `the ${event.kind} event`;
  }
}

/**
 * Follows a started turn to its end, printing every step; returns its result. Throws
 * {@link TurnNotReadableError} (after printing everything it could) when an object the
 * turn recorded cannot be read from the store.
 */
export async function watchTurn(
  client: Client,
  store: TranscriptStore,
  turnWorkflowId: string,
  sink: EventSink,
  threadUsageBefore?: Usage,
  onApproval?: (request: Extract<ExecEvent, { type: 'approval.requested' }>) => Promise<void>,
): Promise<TurnResult> {
  const translator = new ExecEventTranslator(store);
  const problems: string[] = [];
  const shownOutputs = new Set<string>();
  const show = async (event: TurnEvent) => {
    let outs: ExecEvent[];
    try {
      outs = await translator.translate(event);
    } catch (err) {
      const problem = `cannot read ${describeEvent(event)}: ${err instanceof Error ? err.message : String(err)}`;
      problems.push(problem);
      notice(sink, problem);
      return;
    }
    if (event.kind === 'output') shownOutputs.add(event.ref.hash);
    for (const out of outs) {
      emit(sink, out);
      if (out.type === 'approval.requested' && onApproval) await onApproval(out);
    }
  };
  let result: TurnResult;
  try {
    result = await followTurn(client, turnWorkflowId, show, { onNotice: (message, detail) => notice(sink, message, detail) });
  } catch (err) {
    if (!(err instanceof TurnProgressUnreadableError)) throw err;
    // The last steps cannot be listed; the answer itself is in the result, so show it.
    result = err.result;
    notice(sink, `${err.message}; the last steps are not shown`);
    if (result.lastMessage && !shownOutputs.has(result.lastMessage.hash)) {
      await show({ seq: Number.MAX_SAFE_INTEGER, kind: 'output', step: result.steps, ref: result.lastMessage });
    }
  }
  for (const out of translator.finish(result, threadUsageBefore)) emit(sink, out);
  if (problems.length > 0) throw new TurnNotReadableError(turnWorkflowId, result, problems);
  return result;
}

/** Exit status of `unroll exec` for a turn result: 0 completed, 130 interrupted, 1 failed. */
export function exitCodeFor(result: TurnResult): number {
  if (result.status === 'completed') return 0;
  return result.status === 'interrupted' ? 130 : 1;
}
