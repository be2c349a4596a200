/**
 * Running and watching turns for `unroll exec` and `unroll resume`: submit the input,
 * follow the turn's progress, print it (human or JSONL) and map the outcome to an exit
 * code.
 */
import type { Client } from '@temporalio/client';
import type { Usage } from '../items/schemas';
import type { TranscriptStore } from '../store/transcript-store';
import type { TurnResult } from '../workflows/definitions';
import { ExecEventTranslator, type ExecEvent } from './exec-events';
import type { HumanOutput } from './human-output';
import { followTurn } from './threads';

/** Where events go: JSON lines on stdout, or the human renderer. */
export type EventSink = { kind: 'json'; out: NodeJS.WritableStream } | { kind: 'human'; view: HumanOutput };

/** Writes one event to the sink. */
export function emit(sink: EventSink, event: ExecEvent): void {
  if (sink.kind === 'json') sink.out.write(`${JSON.stringify(event)}\n`);
  else sink.view.event(event);
}

/** Follows a started turn to its end, printing every step; returns its result. */
export async function watchTurn(
  client: Client,
  store: TranscriptStore,
  turnWorkflowId: string,
  sink: EventSink,
  threadUsageBefore?: Usage,
  onApproval?: (request: Extract<ExecEvent, { type: 'approval.requested' }>) => Promise<void>,
): Promise<TurnResult> {
  const translator = new ExecEventTranslator(store);
  const result = await followTurn(client, turnWorkflowId, async (event) => {
    for (const out of await translator.translate(event)) {
      emit(sink, out);
      if (out.type === 'approval.requested' && onApproval) await onApproval(out);
    }
  });
  for (const out of translator.finish(result, threadUsageBefore)) emit(sink, out);
  return result;
}

/** Exit status of `unroll exec` for a turn result: 0 completed, 130 interrupted, 1 failed. */
export function exitCodeFor(result: TurnResult): number {
  if (result.status === 'completed') return 0;
  return result.status === 'interrupted' ? 130 : 1;
}
