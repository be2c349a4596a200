/**
 * The human-readable form of `unroll exec`: progress lines on stderr as each step
 * happens (reasoning, commands with exit codes, patches, plan updates, interim
 * messages), the final assistant message alone on stdout (so it can be piped), and a
 * token summary. Colour only when stderr is a TTY.
 */
import { errorKind, type AnyExecItemKind, type ExecItemKind, type ToolExecItem } from '../tools/display';
import { TOOLS } from '../tools/registry';
import type { ExecEvent, ExecItem } from './exec-events';

/** How each kind of tool item is shown: the kinds the registered tools declare (and `error`). */
const KINDS = new Map<string, ExecItemKind>(
  [errorKind, ...TOOLS.flatMap((tool) => tool.display.kinds)].map((kind: AnyExecItemKind) => [kind.type, kind as unknown as ExecItemKind]),
);

export interface HumanOutputOptions {
  readonly err: NodeJS.WritableStream & { isTTY?: boolean };
  readonly out: NodeJS.WritableStream;
  readonly color: boolean;
}

/** Renders exec events for a person; holds back the latest message until the turn ends. */
export class HumanOutput {
  private heldMessage: string | null = null;

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
        this.toolLines(event.item, 'started');
        break;
      case 'item.completed':
        this.item(event.item);
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
    if (item.type === 'agent_message') {
      this.flushMessage();
      this.heldMessage = item.text;
      return;
    }
    this.flushMessage();
    if (item.type === 'reasoning') this.line(this.paint('2;3', `thinking ${item.text}`));
    else this.toolLines(item, 'completed');
  }

  /** A tool item's lines, as its kind declares them (src/tools/display.ts); unknown kinds show nothing. */
  private toolLines(item: ExecItem, phase: 'started' | 'completed'): void {
    const kind = KINDS.get(item.type);
    if (!kind) return;
    const paint = (code: string, text: string) => this.paint(code, text);
    const lines = phase === 'started' ? (kind.humanStarted?.(item as ToolExecItem, paint) ?? []) : kind.humanCompleted(item as ToolExecItem, paint);
    for (const line of lines) this.line(line);
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
