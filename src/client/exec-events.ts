/**
 * Turns a turn's progress events (small references) into the JSONL event stream of
 * `codex exec --json` 0.171, with its shapes and ordering (checked against the real
 * Codex by the side-by-side suite, test/e2e/exec-json-golden.test.ts):
 * thread.started, turn.started, item.started / item.updated / item.completed with items
 * of type agent_message, reasoning, command_execution, file_change, todo_list, web_search
 * (a hosted search the provider ran, src/tools/web-search.ts) and error,
 * `error` events for provider retries (`Reconnecting... n/∞ (…)`, see ./run-turn.ts),
 * then turn.completed (with usage) or turn.failed. As in Codex, a call that never ran
 * (unknown tool, arguments that do not parse, a patch that fails verification) has no
 * item; a file_change lists its absolute, sorted paths from item.started on; the plan is
 * one todo_list item, started by the first update_plan, updated by each later one and
 * completed when the turn ends.
 *
 * Unroll's additions, which a Codex consumer ignores: turn.completed also carries
 * `thread_usage` (running total) and `context_tokens` (the context estimate);
 * `call.rejected` tells why a call that has no item did not run; `context.compacted`
 * reports a compaction, `approval.requested` / `approval.resolved` an approval,
 * `input.injected` a steering message, `checkpoint.skipped` (once per turn) a step whose
 * files could not be checkpointed, `thread.moved` a host failover
 * (src/client/host-move.ts). Full texts are read from the transcript store by hash, so
 * the workflow never has to carry them.
 */
import * as path from 'node:path';
import { isToolOutput, messageText, toolOutputText, type ConversationItem } from '../items/schemas';
import type { ToolExecItem } from '../tools/display';
import { toolDisplayFor } from '../tools/registry';
import { addUsage, ZERO_USAGE } from '../items/usage';
import type { TranscriptStore } from '../store/transcript-store';
import { WRITE_FAILED } from '../tools/apply-patch/apply';
import { shellOutputBody } from '../tools/shell';
import { webSearchItems } from '../tools/web-search';
import type { TurnEvent, TurnResult } from '../workflows/definitions';
import { hostMoveEvent, type ThreadMovedEvent } from './host-move';

/** A file a patch changes, as file_change items list it. */
export interface ExecFileChange {
  path: string;
  kind: 'add' | 'update' | 'delete';
}

/** An entry of a todo_list item. */
export interface ExecTodo {
  text: string;
  completed: boolean;
}

/** An item of the exec event stream (the `item` of item.started / item.updated / item.completed). */
export type ExecItem =
  | { id: string; type: 'agent_message'; text: string }
  | { id: string; type: 'reasoning'; text: string }
  | { id: string; type: 'command_execution'; command: string; aggregated_output: string; exit_code: number | null; status: 'in_progress' | 'completed' | 'failed' }
  | { id: string; type: 'file_change'; changes: ExecFileChange[]; status: 'in_progress' | 'completed' | 'failed' }
  | { id: string; type: 'todo_list'; items: ExecTodo[] }
  | { id: string; type: 'error'; message: string }
  | ToolExecItem;

/** One line of `unroll exec --json`. */
export type ExecEvent =
  | { type: 'thread.started'; thread_id: string }
  | { type: 'turn.started' }
  | { type: 'item.started'; item: ExecItem }
  | { type: 'item.updated'; item: ExecItem }
  | { type: 'item.completed'; item: ExecItem }
  | { type: 'turn.completed'; usage: ExecUsage; thread_usage: ExecUsage; context_tokens: number }
  | { type: 'context.compacted'; reason: string; mode: string; tokens_before: number; tokens_after: number; dropped_items: number }
  | { type: 'approval.requested'; call_id: string; tool: string; summary: string; reason: string; justification: string | null }
  | { type: 'approval.resolved'; call_id: string; decision: string }
  | { type: 'input.injected'; text: string }
  | { type: 'call.rejected'; call_id: string; tool: string; message: string }
  | ThreadMovedEvent
  | { type: 'checkpoint.skipped'; step: number; reason: string }
  | { type: 'turn.failed'; error: { message: string } }
  | { type: 'error'; message: string };

/** Token usage in the field names of `codex exec --json` 0.171. */
export interface ExecUsage {
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
}

type ToolCompleted = Extract<TurnEvent, { kind: 'tool.completed' }>;

/**
 * Stateful translator for one turn: assigns item ids (`item_0`, `item_1`, …), pairs a
 * tool's started and completed events under the same id, and keeps the plan's item open
 * until the turn ends.
 */
export class ExecEventTranslator {
  private nextId = 0;
  private readonly idByCall = new Map<string, string>();
  private readonly commandByCall = new Map<string, string>();
  /** The summaries of started calls of tools beyond Codex's three. */
  private readonly summaryByCall = new Map<string, string>();
  /** The stored call item of each started call (its arguments, for items that show them). */
  private readonly itemHashByCall = new Map<string, string>();
  /** The files each apply_patch call declares, read from the call when it starts. */
  private readonly patchByCall = new Map<string, ExecFileChange[]>();
  /** The plan's todo_list item, once the first update_plan has run. */
  private plan: { id: string; items: ExecTodo[] } | null = null;
  /** The turn's workspace, to make patch paths absolute (unknown in turns recorded before it was told). */
  private cwd: string | null;
  private warnedNoCheckpoint = false;

  constructor(private readonly store: TranscriptStore, options: { cwd?: string } = {}) {
    this.cwd = options.cwd ?? null;
  }

  /** The events for one turn progress event (often none, sometimes two). */
  async translate(event: TurnEvent): Promise<ExecEvent[]> {
    switch (event.kind) {
      case 'turn.started':
        if (event.cwd !== undefined) this.cwd = event.cwd;
        return [{ type: 'turn.started' }];
      case 'output': {
        const item = await this.store.getItem(event.ref.hash);
        if (event.ref.type === 'web_search') {
          if (item.type !== 'web_search_call') return [];
          const { started, completed } = webSearchItems(item, this.newId());
          return [{ type: 'item.started', item: started }, { type: 'item.completed', item: completed }];
        }
        const text = event.ref.type === 'agent_message' ? (item.type === 'message' ? messageText(item) : '') : reasoningText(item);
        return [{ type: 'item.completed', item: { id: this.newId(), type: event.ref.type, text } }];
      }
      case 'tool.started':
        return this.toolStarted(event.call.callId, event.call.name, event.call.summary, event.call.itemHash);
      case 'tool.completed':
        return this.toolCompleted(event);
      case 'approval.requested':
        return [{ type: 'approval.requested', call_id: event.call.callId, tool: event.call.name, summary: event.call.summary, reason: event.reason, justification: event.call.facts?.justification ?? null }];
      case 'approval.resolved':
        return [{ type: 'approval.resolved', call_id: event.callId, decision: event.decision }];
      case 'input.injected':
        return [{ type: 'input.injected', text: event.text }];
      case 'host.moved':
        this.cwd = event.move.cwd;
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
   * The closing events of the turn: the plan's todo_list item completes (as in Codex,
   * after the last message), then turn.completed or turn.failed. `threadUsageBefore` is
   * the thread's usage before this turn, so that `thread_usage` is the running total.
   */
  finish(result: TurnResult, threadUsageBefore: TurnResult['usage'] = ZERO_USAGE): ExecEvent[] {
    const closing: ExecEvent[] = this.plan ? [{ type: 'item.completed', item: { id: this.plan.id, type: 'todo_list', items: this.plan.items } }] : [];
    this.plan = null;
    if (result.status === 'completed') {
      return [...closing, { type: 'turn.completed', usage: execUsage(result.usage), thread_usage: execUsage(addUsage(threadUsageBefore, result.usage)), context_tokens: result.contextTokens }];
    }
    if (result.status === 'interrupted') return [...closing, { type: 'turn.failed', error: { message: 'turn interrupted by the user' } }];
    return [...closing, { type: 'turn.failed', error: { message: result.error?.message ?? `turn ${result.status}` } }];
  }

  private newId(): string {
    return `item_${this.nextId++}`;
  }

  /** A function call's arguments as JSON (null when they are not JSON, or for a custom call). */
  private async callArguments(itemHash: string): Promise<unknown> {
    const call = await this.store.getItem(itemHash);
    if (call.type !== 'function_call') return null;
    try {
      return call.arguments.trim() === '' ? {} : (JSON.parse(call.arguments) as unknown);
    } catch {
      return null;
    }
  }

  private async toolStarted(callId: string, name: string, summary: string, itemHash: string): Promise<ExecEvent[]> {
    this.itemHashByCall.set(callId, itemHash);
    if (name === 'shell') {
      // A call whose arguments do not parse has no command (its summary is the bare name): no item, as in Codex.
      if (!summary.startsWith('shell: ')) return [];
      const id = this.newId();
      this.idByCall.set(callId, id);
      const command = summary.slice('shell: '.length);
      this.commandByCall.set(callId, command);
      return [{ type: 'item.started', item: { id, type: 'command_execution', command, aggregated_output: '', exit_code: null, status: 'in_progress' } }];
    }
    if (name === 'apply_patch') {
      // Codex opens the item only once the patch is verified, so it is opened on completion.
      this.patchByCall.set(callId, await this.declaredChanges(itemHash));
      return [];
    }
    if (name === 'update_plan') return [];
    // Other tools show the item their module declares (src/tools/display.ts).
    const display = toolDisplayFor(name);
    const item = (await display?.started({ callId, name, summary, arguments: () => this.callArguments(itemHash) }, `item_${this.nextId}`)) ?? null;
    if (!item) return [];
    this.idByCall.set(callId, this.newId());
    this.summaryByCall.set(callId, summary);
    return [{ type: 'item.started', item }];
  }

  private async toolCompleted(event: ToolCompleted): Promise<ExecEvent[]> {
    switch (event.name) {
      case 'shell':
        return this.shellCompleted(event);
      case 'apply_patch':
        return this.patchCompleted(event);
      case 'update_plan':
        return this.planCompleted(event);
      default:
        return this.otherToolCompleted(event);
    }
  }

  /**
   * A tool beyond Codex's three (view_image, …): its call shows the item its module
   * declares (src/tools/display.ts); an unknown tool's call has no item, as in Codex.
   */
  private async otherToolCompleted(event: ToolCompleted): Promise<ExecEvent[]> {
    const display = toolDisplayFor(event.name);
    if (!display) return event.success ? [] : this.rejected(event);
    const output = async () => {
      const item = await this.store.getItem(event.outputHash);
      return isToolOutput(item) ? toolOutputText(item.output) : '';
    };
    const { callId, name, success, interrupted, metadata } = event;
    const id = this.idByCall.get(callId) ?? this.newId();
    const itemHash = this.itemHashByCall.get(callId);
    const args = itemHash !== undefined ? () => this.callArguments(itemHash) : undefined;
    const value = (hash: string) => this.store.getValue(hash, 'store object');
    const items = await display.completed({ callId, name, success, interrupted, metadata, summary: this.summaryByCall.get(callId), output, ...(args ? { arguments: args } : {}), value }, id, () => this.newId());
    return items.map((item) => ({ type: 'item.completed' as const, item }));
  }

  /** command_execution: closes the item the call opened, with Codex's output, exit code and status. */
  private async shellCompleted(event: ToolCompleted): Promise<ExecEvent[]> {
    const id = this.idByCall.get(event.callId);
    if (id === undefined) return this.rejected(event);
    const meta = event.metadata;
    const output = await this.store.getItem(event.outputHash);
    const text = 'output' in output ? String(output.output) : '';
    return [{
      type: 'item.completed',
      item: {
        id,
        type: 'command_execution',
        command: typeof meta.command === 'string' ? meta.command : (this.commandByCall.get(event.callId) ?? ''),
        aggregated_output: shellOutputBody(text),
        exit_code: typeof meta.exitCode === 'number' ? meta.exitCode : null,
        status: event.success ? 'completed' : 'failed',
      },
    }];
  }

  /**
   * file_change: as Codex, an applied patch is started and completed with the files it
   * declares; a patch that failed while writing is started and completed as failed; one
   * that never got to writing (verification, sandbox) has no item.
   */
  private async patchCompleted(event: ToolCompleted): Promise<ExecEvent[]> {
    const error = typeof event.metadata.error === 'string' ? event.metadata.error : '';
    const wrote = event.success || error.startsWith(WRITE_FAILED) || error.startsWith('apply_patch could not');
    if (!wrote) return this.rejected(event);
    const declared = this.patchByCall.get(event.callId) ?? [];
    const changes = declared.length > 0 ? declared : this.absoluteChanges(metadataChanges(event.metadata.changes));
    const id = this.newId();
    return [
      { type: 'item.started', item: { id, type: 'file_change', changes, status: 'in_progress' } },
      { type: 'item.completed', item: { id, type: 'file_change', changes, status: event.success ? 'completed' : 'failed' } },
    ];
  }

  /** todo_list: one item per turn, started by the first plan and updated by each later one. */
  private async planCompleted(event: ToolCompleted): Promise<ExecEvent[]> {
    if (!event.success || !Array.isArray(event.metadata.plan)) return this.rejected(event);
    const items = (event.metadata.plan as Array<{ step: string; status: string }>).map((s) => ({ text: s.step, completed: s.status === 'completed' }));
    if (this.plan) {
      this.plan.items = items;
      return [{ type: 'item.updated', item: { id: this.plan.id, type: 'todo_list', items } }];
    }
    this.plan = { id: this.newId(), items };
    return [{ type: 'item.started', item: { id: this.plan.id, type: 'todo_list', items } }];
  }

  /** Unroll's addition for a call that did not run (no item, as in Codex): why, from its output. */
  private async rejected(event: ToolCompleted): Promise<ExecEvent[]> {
    let message = typeof event.metadata.error === 'string' ? event.metadata.error : '';
    if (message === '') {
      const output = await this.store.getItem(event.outputHash);
      message = 'output' in output ? String(output.output) : `${event.name} failed`;
    }
    return [{ type: 'call.rejected', call_id: event.callId, tool: event.name, message }];
  }

  /** The files an apply_patch call declares (its `*** Add/Update/Delete File:` lines). */
  private async declaredChanges(itemHash: string): Promise<ExecFileChange[]> {
    let patch = '';
    try {
      const call = await this.store.getItem(itemHash);
      if (call.type === 'custom_tool_call') patch = call.input;
      else if (call.type === 'function_call') {
        const input = (JSON.parse(call.arguments) as { input?: unknown }).input;
        patch = typeof input === 'string' ? input : '';
      }
    } catch {
      // Arguments that are not JSON: the call fails verification and has no item.
      return [];
    }
    return this.absoluteChanges(patchChanges(patch));
  }

  /** Paths made absolute against the workspace, one entry per path (the last kind wins), sorted as Codex sorts them. */
  private absoluteChanges(changes: readonly ExecFileChange[]): ExecFileChange[] {
    const byPath = new Map<string, ExecFileChange['kind']>();
    for (const c of changes) byPath.set(this.cwd === null ? c.path : path.resolve(this.cwd, c.path), c.kind);
    return [...byPath].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([p, kind]) => ({ path: p, kind }));
  }
}

/** The `*** Add/Update/Delete File:` operations of a patch text, relative paths as written. */
export function patchChanges(patch: string): ExecFileChange[] {
  const kinds = { Add: 'add', Update: 'update', Delete: 'delete' } as const;
  const changes: ExecFileChange[] = [];
  for (const match of patch.matchAll(/^\*\*\* (Add|Update|Delete) File: (.+?)\s*$/gm)) {
    changes.push({ path: match[2], kind: kinds[match[1] as keyof typeof kinds] });
  }
  return changes;
}

/** The `changes` an apply_patch result's metadata reports (`{kind: 'A'|'M'|'D', path}`). */
function metadataChanges(changes: unknown): ExecFileChange[] {
  if (!Array.isArray(changes)) return [];
  return (changes as Array<{ kind: string; path: string }>).map((c) => ({ path: c.path, kind: c.kind === 'A' ? 'add' : c.kind === 'D' ? 'delete' : 'update' }));
}

/** Usage in the field names of `codex exec --json`. */
export function execUsage(usage: TurnResult['usage']): ExecUsage {
  return {
    input_tokens: usage.inputTokens,
    cached_input_tokens: usage.cachedInputTokens,
    cache_write_input_tokens: usage.cacheWriteInputTokens ?? 0,
    output_tokens: usage.outputTokens,
    reasoning_output_tokens: usage.reasoningOutputTokens,
  };
}

function reasoningText(item: ConversationItem): string {
  return item.type === 'reasoning' ? item.summary.map((s) => s.text).join('\n') : '';
}

export { shellOutputBody };
