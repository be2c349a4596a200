/**
 * Where a fork starts, and how it edits the past.
 *
 * The fork point of step `T.S` is the transcript the model's next request would have
 * continued from: the head step S's inference returned (the request's transcript plus
 * the response) followed by the outputs of that step's tool calls, in call order. So a
 * fork at the step that ran `npm test` includes the test output, and `--edit-output`
 * can replace it. A call that never produced an output stays open and is answered as
 * aborted when the fork's first turn begins. `T.0` is the start of turn T, before its
 * user message.
 *
 * Editing an output writes a new chain: the nodes before the one holding the output are
 * shared, that node is copied with the output replaced, and every later node is copied
 * onto the new parent. Items are content-addressed, so only the nodes are new.
 */
import type { ContextState } from '../shared/context-state';
import { isToolOutput } from '../items/schemas';
import type { TranscriptStore } from '../store/transcript-store';
import { resolveStep, resolveTurn, StepRefError, type StepRef } from './step-ref';
import type { ThreadRun } from './thread-run';

/** The transcript a fork starts from, and the context state that goes with it. */
export interface ForkPoint {
  readonly turn: number;
  readonly step: number;
  readonly head: string | null;
  readonly context: ContextState;
}

/** The tool output to edit is not in the fork point's transcript. */
export class ToolOutputNotFoundError extends Error {
  override readonly name = 'ToolOutputNotFoundError';
  constructor(readonly callId: string, available: readonly string[]) {
    super(`no tool output for call ${callId} in the transcript at the fork point${available.length > 0 ? ` (calls with outputs: ${available.join(', ')})` : ' (it has no tool outputs)'}`);
  }
}

function contextOf(result: unknown): ContextState | null {
  const context = (result as { context?: ContextState } | null)?.context;
  return context && typeof context === 'object' ? context : null;
}

/** Computes the fork point of a step (see the module comment); writes at most one node. */
export async function forkPoint(run: ThreadRun, ref: StepRef, store: TranscriptStore): Promise<ForkPoint> {
  const turn = resolveTurn(run, ref);
  if (ref.step === 0) return { turn: turn.turn, step: 0, head: turn.startHead, context: turn.startContext };
  const step = resolveStep(run, ref);
  if (step.outputHead === null) throw new StepRefError(`step ${step.id} has no response to fork from (its request ${step.inference.outcome})`);
  // The context in force: the turn's, then whatever setup and compactions up to this step set.
  let context = contextOf(turn.setup?.result) ?? turn.startContext;
  for (const s of turn.steps) {
    for (const a of s.before) context = contextOf(a.result) ?? context;
    if (s === step) break;
  }
  const outputs = step.toolCalls.flatMap((c) => (c.outputHash ? [c.outputHash] : []));
  const head = outputs.length === 0 ? step.outputHead : await store.putNode(step.outputHead, outputs, { kind: 'fork-point', thread: run.threadId, step: step.id });
  return { turn: turn.turn, step: step.step, head, context };
}

/**
 * Replaces the output of `callId` in the transcript named by `head` with `text`;
 * returns the new head. Throws {@link ToolOutputNotFoundError}.
 */
export async function replaceToolOutput(store: TranscriptStore, head: string | null, callId: string, text: string): Promise<string> {
  const chain = (await store.nodeChain(head)).reverse();
  const nodes = await Promise.all(chain.map((hash) => store.getNode(hash)));
  const outputs: string[] = [];
  for (const [index, node] of nodes.entries()) {
    for (const [position, hash] of node.items.entries()) {
      const item = await store.getItem(hash);
      if (!isToolOutput(item)) continue;
      outputs.push(item.call_id);
      if (item.call_id !== callId) continue;
      const edited = await store.putItem({ ...item, output: text });
      const items = node.items.map((h, i) => (i === position ? edited : h));
      let parent = await store.putNode(node.parent, items, { ...node.meta, edited: callId });
      for (const later of nodes.slice(index + 1)) parent = await store.putNode(parent, later.items, later.meta);
      return parent;
    }
  }
  throw new ToolOutputNotFoundError(callId, outputs);
}
