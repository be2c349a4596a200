/**
 * The human-readable form of `unroll exec`: progress lines on stderr as each step
 * happens (reasoning, commands with exit codes, patches, plan updates, interim
 * messages), the final assistant message alone on stdout (so it can be piped), and a
 * token summary. Colour only when stderr is a TTY.
 */
import { errorKind, type AnyExecItemKind, type ExecItemKind, type ToolExecItem } from '../tools/display';
import { DYNAMIC_TOOL_KINDS, HOSTED_TOOLS, TOOLS } from '../tools/registry';
import type { ExecEvent, ExecItem } from './exec-events';

/** Lines of a command's output the human view shows. */
const OUTPUT_PREVIEW_LINES = 6;

/** How each kind of tool item is shown: the kinds the registered tools declare (and `error`). */
const KINDS = new Map<string, ExecItemKind>(
  [errorKind, ...TOOLS.flatMap((tool) => tool.display.kinds), ...HOSTED_TOOLS.flatMap((tool) => tool.kinds), ...DYNAMIC_TOOL_KINDS.flatMap((kind) => kind.display.kinds)].map((kind: AnyExecItemKind) => [kind.type, kind as unknown as ExecItemKind]),
);

export interface HumanOutputOptions {
  readonly err: NodeJS.WritableStream & { isTTY?: boolean };
  readonly out: NodeJS.WritableStream;
  readonly color: boolean;
}

/** Renders exec events for a person; holds back the latest message until the turn ends. */
export class HumanOutput {
  private heldMessage: string | null = null;
  /** The todo list last printed, so that the same plan is not printed twice. */
  private shownPlan: string | null = null;

  constructor(private readonly options: HumanOutputOptions) {}

  private paint(code: string, text: string): string {
    return this.options.color ? `\u001b[${code}m${text}\u001b[0m` : text;
  }

  private line(text = ''): void {
    this.options.err.write(`${text}\n`);
  }

  /** A header line before the first turn. */
  header(fields: Record<string, string>): void {
    this.line(this.paint('2', Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join(' · ')));
  }

  /** The user's prompt, echoed. */
  user(text: string): void {
    this.line(`${this.paint('1', 'user')} ${text}`);
  }

  /**
   * What the turn waits for (the server is unreachable, a step is retried, no worker
   * takes a step): one line, and the turn goes on. A held message stays held: it may
   * still be the answer.
   */
  notice(message: string): void {
    this.line(this.paint('33', message));
  }

  /** Renders one event. */
  event(event: ExecEvent): void {
    switch (event.type) {
      case 'item.started':
        this.flushMessage();
        if (event.item.type === 'command_execution') this.line(`${this.paint('36', '$')} ${event.item.command}`);
        if (event.item.type === 'todo_list') this.item(event.item);
        break;
      case 'item.updated':
        // The plan changed; its item completes (unchanged) at the end of the turn.
        if (event.item.type === 'todo_list') this.item(event.item);
        break;
      case 'item.completed':
        this.item(event.item);
        break;
      case 'call.rejected':
        this.flushMessage();
        this.line(this.paint('31', `error: ${event.tool}: ${event.message}`));
        break;
      case 'turn.completed': {
        this.finalMessage();
        const u = event.usage;
        const t = event.thread_usage;
        this.line(this.paint('2', `tokens: ${u.input_tokens} in (${u.cached_input_tokens} cached) · ${u.output_tokens} out (${u.reasoning_output_tokens} reasoning)`));
        this.line(this.paint('2', `thread: ${t.input_tokens} in (${t.cached_input_tokens} cached) · ${t.output_tokens} out · context ≈ ${event.context_tokens} tokens`));
        break;
      }
      case 'approval.requested':
        this.flushMessage();
        this.line(this.paint('33;1', `approval needed: ${event.summary}`));
        this.line(`  ${event.reason}${event.justification ? ` (${event.justification})` : ''}`);
        break;
      case 'approval.resolved':
        this.line(this.paint('33', `  ${event.decision === 'approve' || event.decision === 'approve-for-session' ? 'approved' : event.decision === 'timeout' ? 'timed out (denied)' : 'denied'}`));
        break;
      case 'input.injected':
        this.line(`${this.paint('1', 'user (steering)')} ${event.text}`);
        break;
      case 'context.compacted':
        this.flushMessage();
        this.line(this.paint('33', `context compacted (${event.reason}, ${event.mode}): ≈${event.tokens_before} → ≈${event.tokens_after} tokens${event.dropped_items > 0 ? `, ${event.dropped_items} oldest items dropped` : ''}`));
        break;
      case 'thread.moved':
        this.flushMessage();
        this.line(this.paint(event.not_restored ? '31;1' : '33;1', event.message));
        break;
      case 'checkpoint.skipped':
        this.line(this.paint('33', `warning: the workspace was not checkpointed after step ${event.step} of this turn: ${event.reason}. Checkout, fork and rewind cannot restore its files from here on until a checkpoint succeeds.`));
        break;
      case 'turn.failed':
        this.flushMessage();
        this.line(this.paint('31', `turn failed: ${event.error.message}`));
        break;
      case 'error':
        this.line(this.paint('31', `error: ${event.message}`));
        break;
      default:
        break;
    }
  }

  private item(item: ExecItem): void {
    // The plan's item completes at the end of the turn with the plan last shown.
    if (item.type === 'todo_list' && this.shownPlan === JSON.stringify(item.items)) return;
    if (item.type === 'agent_message') {
      this.flushMessage();
      this.heldMessage = item.text;
      return;
    }
    this.flushMessage();
    switch (item.type) {
      case 'reasoning':
        this.line(this.paint('2;3', `thinking ${item.text}`));
        break;
      case 'command_execution': {
        const status = item.exit_code === null ? this.paint('31', item.status) : item.exit_code === 0 ? this.paint('32', 'exit 0') : this.paint('31', `exit ${item.exit_code}`);
        this.line(`  ${status}`);
        const lines = item.aggregated_output.replace(/\n$/, '').split('\n').filter((l, i, all) => l !== '' || all.length > 1);
        for (const l of lines.slice(0, OUTPUT_PREVIEW_LINES)) this.line(this.paint('2', `  │ ${l}`));
        if (lines.length > OUTPUT_PREVIEW_LINES) this.line(this.paint('2', `  │ … ${lines.length - OUTPUT_PREVIEW_LINES} more lines`));
        break;
      }
      case 'file_change':
        if (item.status === 'completed') {
          const kind = { add: 'A', update: 'M', delete: 'D' } as const;
          this.line(`${this.paint('35', 'patch')} ${item.changes.map((c) => `${kind[c.kind]} ${c.path}`).join(', ') || '(no changes)'}`);
        }
        break;
      case 'todo_list':
        this.shownPlan = JSON.stringify(item.items);
        this.line(this.paint('33', 'plan'));
        for (const step of item.items) this.line(`  ${step.completed ? '[x]' : '[ ]'} ${step.text}`);
        break;
      case 'error':
        this.line(this.paint('31', `error: ${item.message}`));
        break;
      default:
        // Items of other tools are shown as their modules declare (src/tools/display.ts).
        this.toolLines(item);
    }
  }

  /** A tool item's lines, as its kind declares them; unknown kinds show nothing. */
  private toolLines(item: ExecItem): void {
    const kind = KINDS.get(item.type);
    if (!kind) return;
    for (const line of kind.humanCompleted(item as ToolExecItem, (code: string, text: string) => this.paint(code, text))) this.line(line);
  }

  /** An interim message followed by more work is commentary: it goes to stderr. */
  private flushMessage(): void {
    if (this.heldMessage === null) return;
    this.line(`${this.paint('1', 'assistant')} ${this.heldMessage}`);
    this.heldMessage = null;
  }

  /** The last message of a completed turn is the answer: it goes to stdout. */
  private finalMessage(): void {
    if (this.heldMessage === null) return;
    this.options.out.write(`${this.heldMessage}\n`);
    this.heldMessage = null;
  }
}
