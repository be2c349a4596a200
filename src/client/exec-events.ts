/**
 * Turns a turn's progress events (small references) into the JSONL event stream of
 * `codex exec --json`: thread.started, turn.started, item.started / item.completed with
 * items of type agent_message, reasoning and the items of tool calls (each tool's module
 * declares them: command_execution, file_change, todo_list, tool_call; error for unknown
 * tools), then turn.completed (with usage) or turn.failed. Two additions of Unroll's own:
 * turn.completed also carries `thread_usage` (running total) and `context_tokens` (the
 * context estimate), `context.compacted` reports a compaction, `approval.requested` /
 * `approval.resolved` an approval, `input.injected` a steering message, `checkpoint.skipped`
 * (once per turn) a step whose files could not be checkpointed, `thread.moved` a host
 * failover (src/client/host-move.ts). Full texts are read from the
 * transcript store by hash, so the workflow never has to carry them.
 */
import { isToolOutput, messageText, toolOutputText, type ConversationItem } from '../items/schemas';
import { addUsage, ZERO_USAGE } from '../items/usage';
import type { TranscriptStore } from '../store/transcript-store';
import type { ToolExecItem } from '../tools/display';
import { toolByName } from '../tools/registry';
import type { TurnEvent, TurnResult } from '../workflows/definitions';
import { hostMoveEvent, type ThreadMovedEvent } from './host-move';

/** An item of the exec event stream (the `item` of item.started / item.completed). */
export type ExecItem =
  | { id: string; type: 'agent_message'; text: string }
  | { id: string; type: 'reasoning'; text: string }
  | ToolExecItem;

/** One line of `unroll exec --json`. */
export type ExecEvent =
  | { type: 'thread.started'; thread_id: string }
  | { type: 'turn.started' }
  | { type: 'item.started'; item: ExecItem }
  | { type: 'item.completed'; item: ExecItem }
  | { type: 'turn.completed'; usage: ExecUsage; thread_usage: ExecUsage; context_tokens: number }
  | { type: 'context.compacted'; reason: string; mode: string; tokens_before: number; tokens_after: number; dropped_items: number }
  | { type: 'approval.requested'; call_id: string; tool: string; summary: string; reason: string; justification: string | null }
  | { type: 'approval.resolved'; call_id: string; decision: string }
  | { type: 'input.injected'; text: string }
  | ThreadMovedEvent
  | { type: 'checkpoint.skipped'; step: number; reason: string }
  | { type: 'turn.failed'; error: { message: string } }
  | { type: 'error'; message: string };

export interface ExecUsage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
}

/**
 * Stateful translator for one turn: assigns item ids (`item_0`, `item_1`, …) and pairs a
 * tool's started and completed events under the same id.
 */
export class ExecEventTranslator {
  private nextId = 0;
  private readonly idByCall = new Map<string, string>();
  private readonly summaryByCall = new Map<string, string>();
  private warnedNoCheckpoint = false;

  constructor(private readonly store: TranscriptStore) {}

  /** The events for one turn progress event (often none, sometimes two). */
  async translate(event: TurnEvent): Promise<ExecEvent[]> {
    switch (event.kind) {
      case 'turn.started':
        return [{ type: 'turn.started' }];
      case 'output': {
        const item = await this.store.getItem(event.ref.hash);
        const text = event.ref.type === 'agent_message' ? (item.type === 'message' ? messageText(item) : '') : reasoningText(item);
        return [{ type: 'item.completed', item: { id: this.newId(), type: event.ref.type, text } }];
      }
      case 'tool.started':
        return this.toolStarted(event.call.callId, event.call.name, event.call.summary);
      case 'tool.completed':
        return this.toolCompleted(event);
      case 'approval.requested':
        return [{ type: 'approval.requested', call_id: event.call.callId, tool: event.call.name, summary: event.call.summary, reason: event.reason, justification: event.call.facts?.justification ?? null }];
      case 'approval.resolved':
        return [{ type: 'approval.resolved', call_id: event.callId, decision: event.decision }];
      case 'input.injected':
        return [{ type: 'input.injected', text: event.text }];
      case 'host.moved':
        return [hostMoveEvent(event.move)];
      case 'checkpoint':
        // Said once: every later step of the turn is likely skipped for the same reason.
        if (event.checkpoint.status !== 'skipped' || this.warnedNoCheckpoint) return [];
        this.warnedNoCheckpoint = true;
        return [{ type: 'checkpoint.skipped', step: event.step, reason: event.checkpoint.reason ?? 'unknown' }];
      case 'compaction': {
        const c = event.compaction;
        return [{ type: 'context.compacted', reason: c.reason, mode: c.mode, tokens_before: c.tokensBefore, tokens_after: c.tokensAfter, dropped_items: c.droppedItems }];
      }
      default:
        return [];
    }
  }

  /**
   * The closing event of the turn. `threadUsageBefore` is the thread's usage before this
   * turn, so that `thread_usage` is the running total.
   */
  finish(result: TurnResult, threadUsageBefore: TurnResult['usage'] = ZERO_USAGE): ExecEvent[] {
    if (result.status === 'completed') {
      return [{ type: 'turn.completed', usage: execUsage(result.usage), thread_usage: execUsage(addUsage(threadUsageBefore, result.usage)), context_tokens: result.contextTokens }];
    }
    if (result.status === 'interrupted') return [{ type: 'turn.failed', error: { message: 'turn interrupted by the user' } }];
    return [{ type: 'turn.failed', error: { message: result.error?.message ?? `turn ${result.status}` } }];
  }

  private newId(): string {
    return `item_${this.nextId++}`;
  }

  private toolStarted(callId: string, name: string, summary: string): ExecEvent[] {
    const tool = toolByName(name);
    if (!tool) return [];
    this.summaryByCall.set(callId, summary);
    // The id is taken only when the call shows an item as it starts; otherwise its item gets one when it ends.
    const item = tool.display.started({ callId, name, summary }, `item_${this.nextId}`);
    if (!item) return [];
    this.idByCall.set(callId, this.newId());
    return [{ type: 'item.started', item }];
  }

  private async toolCompleted(event: Extract<TurnEvent, { kind: 'tool.completed' }>): Promise<ExecEvent[]> {
    const id = this.idByCall.get(event.callId) ?? this.newId();
    const output = async () => {
      const item = await this.store.getItem(event.outputHash);
      return isToolOutput(item) ? toolOutputText(item.output) : `${event.name} failed`;
    };
    const tool = toolByName(event.name);
    if (!tool) return [{ type: 'item.completed', item: { id, type: 'error', message: await output() } }];
    const { callId, name, success, interrupted, metadata } = event;
    const items = await tool.display.completed({ callId, name, success, interrupted, metadata, summary: this.summaryByCall.get(callId), output }, id, () => this.newId());
    return items.map((item) => ({ type: 'item.completed', item }));
  }
}

/** Usage in the field names of `codex exec --json`. */
export function execUsage(usage: TurnResult['usage']): ExecUsage {
  return {
    input_tokens: usage.inputTokens,
    cached_input_tokens: usage.cachedInputTokens,
    output_tokens: usage.outputTokens,
    reasoning_output_tokens: usage.reasoningOutputTokens,
  };
}

function reasoningText(item: ConversationItem): string {
  return item.type === 'reasoning' ? item.summary.map((s) => s.text).join('\n') : '';
}

export { shellOutputBody } from '../tools/shell';
