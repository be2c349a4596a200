/**
 * How tool calls are shown: the items of `unroll exec --json` (shaped like
 * `codex exec --json`: command_execution, file_change, todo_list, error, plus Unroll's
 * generic `tool_call` for tools Codex has no item for) and their human lines. A tool
 * module's `display` (see ./contract.ts) maps its calls to these items; each item kind
 * knows its own human lines, so tools that share a kind are shown alike.
 */

/** A command the model ran (`shell`). */
export interface CommandExecutionItem {
  id: string;
  type: 'command_execution';
  command: string;
  aggregated_output: string;
  exit_code: number | null;
  status: 'in_progress' | 'completed' | 'failed';
}

/** A patch (`apply_patch`). */
export interface FileChangeItem {
  id: string;
  type: 'file_change';
  changes: Array<{ path: string; kind: 'add' | 'update' | 'delete' }>;
  status: 'in_progress' | 'completed' | 'failed';
}

/** The agent's plan (`update_plan`). */
export interface TodoListItem {
  id: string;
  type: 'todo_list';
  items: Array<{ text: string; completed: boolean }>;
}

/** Any other tool's call: its name, summary and outcome. */
export interface ToolCallExecItem {
  id: string;
  type: 'tool_call';
  tool: string;
  summary: string;
  status: 'in_progress' | 'completed' | 'failed';
  /** What the model was told, when the call failed (at most 500 characters). */
  error?: string;
}

/** A call of an MCP server's tool, as Codex 0.171 emits it (src/tools/mcp-tool.ts). */
export interface McpToolCallExecItem {
  id: string;
  type: 'mcp_tool_call';
  server: string;
  tool: string;
  arguments: unknown;
  result: { content: unknown[]; structured_content: unknown } | null;
  error: { message: string } | null;
  status: 'in_progress' | 'completed' | 'failed';
}

/** Something that went wrong (a failed call of a tool without an item of its own, an unknown tool). */
export interface ErrorItem {
  id: string;
  type: 'error';
  message: string;
}

/** What a hosted web search did, in Codex's shape (`search`, `open_page`, `find_in_page` or `other`). */
export type WebSearchAction =
  | { type: 'search'; query?: string; queries?: string[] }
  | { type: 'open_page'; url?: string }
  | { type: 'find_in_page'; url?: string; pattern?: string }
  | { type: 'other' };

/** A hosted web search (`web_search`): `query` is Codex's one-line detail of the action. */
export interface WebSearchItem {
  id: string;
  type: 'web_search';
  query: string;
  action: WebSearchAction;
}

/** An `exec --json` item a tool call produces. */
export type ToolExecItem = CommandExecutionItem | FileChangeItem | TodoListItem | ToolCallExecItem | McpToolCallExecItem | ErrorItem | WebSearchItem;

/** Colours a text for a terminal (`code` is an SGR code such as `31` or `2;3`); identity without colour. */
export type Paint = (code: string, text: string) => string;

/** How one kind of item is shown to a person: lines for its start and for its end. */
export interface ExecItemKind<I extends ToolExecItem = ToolExecItem> {
  readonly type: I['type'];
  humanStarted?(item: I, paint: Paint): string[];
  humanCompleted(item: I, paint: Paint): string[];
}

/** Any one of the item kinds. */
export type AnyExecItemKind = { [T in ToolExecItem['type']]: ExecItemKind<Extract<ToolExecItem, { type: T }>> }[ToolExecItem['type']];

/** A call as it starts. */
export interface StartedCall {
  readonly callId: string;
  readonly name: string;
  readonly summary: string;
  /** The call's arguments as the model sent them (read from the store; null when they are not JSON). */
  readonly arguments?: () => Promise<unknown>;
}

/** A call as it ends; `output` reads the text the model got (from the store). */
export interface CompletedCall {
  readonly callId: string;
  readonly name: string;
  /** The summary of its start, when it was seen. */
  readonly summary: string | undefined;
  readonly success: boolean;
  readonly interrupted: boolean;
  readonly metadata: Record<string, unknown>;
  output(): Promise<string>;
  /** The call's arguments as the model sent them (read from the store; null when they are not JSON). */
  readonly arguments?: () => Promise<unknown>;
  /** A JSON value the tool stored (`TranscriptStore.putValue`), by the hash its metadata names. */
  readonly value?: (hash: string) => Promise<unknown>;
}

/** A tool's display: the item kinds it uses and how its calls map to them. */
export interface ToolDisplay {
  readonly kinds: readonly AnyExecItemKind[];
  /** The item of a starting call, or null when it shows nothing until it ends. */
  started(call: StartedCall, id: string): ToolExecItem | null | Promise<ToolExecItem | null>;
  /** The items of an ended call; `id` is the started item's (or a fresh one), `newId` makes more. */
  completed(call: CompletedCall, id: string, newId: () => string): Promise<ToolExecItem[]>;
}

const OUTPUT_PREVIEW_LINES = 6;

/** `$ command`, then the exit status and the first lines of the output. */
export const commandExecutionKind: ExecItemKind<CommandExecutionItem> = {
  type: 'command_execution',
  humanStarted: (item, paint) => [`${paint('36', '$')} ${item.command}`],
  humanCompleted(item, paint) {
    const status = item.exit_code === null ? paint('31', item.status) : item.exit_code === 0 ? paint('32', 'exit 0') : paint('31', `exit ${item.exit_code}`);
    const out = [`  ${status}`];
    const lines = item.aggregated_output.replace(/\n$/, '').split('\n').filter((l, i, all) => l !== '' || all.length > 1);
    for (const l of lines.slice(0, OUTPUT_PREVIEW_LINES)) out.push(paint('2', `  │ ${l}`));
    if (lines.length > OUTPUT_PREVIEW_LINES) out.push(paint('2', `  │ … ${lines.length - OUTPUT_PREVIEW_LINES} more lines`));
    return out;
  },
};

/** `patch A a, M b` for an applied patch; a failed one is told by its error item. */
export const fileChangeKind: ExecItemKind<FileChangeItem> = {
  type: 'file_change',
  humanCompleted(item, paint) {
    if (item.status !== 'completed') return [];
    const kind = { add: 'A', update: 'M', delete: 'D' } as const;
    return [`${paint('35', 'patch')} ${item.changes.map((c) => `${kind[c.kind]} ${c.path}`).join(', ') || '(no changes)'}`];
  },
};

/** `plan` and one checkbox line per step. */
export const todoListKind: ExecItemKind<TodoListItem> = {
  type: 'todo_list',
  humanCompleted: (item, paint) => [paint('33', 'plan'), ...item.items.map((step) => `  ${step.completed ? '[x]' : '[ ]'} ${step.text}`)],
};

/** `error: message`. */
export const errorKind: ExecItemKind<ErrorItem> = {
  type: 'error',
  humanCompleted: (item, paint) => [paint('31', `error: ${item.message}`)],
};

/** `tool <summary>`, and what went wrong when it failed. */
export const toolCallKind: ExecItemKind<ToolCallExecItem> = {
  type: 'tool_call',
  humanCompleted(item, paint) {
    const lines = [`${paint('36', 'tool')} ${item.summary}`];
    if (item.status === 'failed') lines.push(paint('31', `  failed: ${item.error ?? 'unknown error'}`));
    return lines;
  },
};

const MAX_ERROR_CHARS = 500;

/** The display of a tool without an item of its own: a `tool_call` item, started and completed. */
export const genericToolDisplay: ToolDisplay = {
  kinds: [toolCallKind],
  started: (call, id) => ({ id, type: 'tool_call', tool: call.name, summary: call.summary, status: 'in_progress' }),
  async completed(call, id) {
    const item: ToolCallExecItem = { id, type: 'tool_call', tool: call.name, summary: call.summary ?? call.name, status: call.success ? 'completed' : 'failed' };
    if (!call.success) item.error = clip(await call.output(), MAX_ERROR_CHARS);
    return [item];
  },
};

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
