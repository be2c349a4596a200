/**
 * The inputs and results of every activity. They are references (content hashes) plus
 * small metadata: their size must not grow with the conversation, which is what keeps
 * Temporal history flat however long a thread gets. Workflows import these as types.
 */
import type { DynamicToolRecord, SessionSettings } from '../config/settings';
import type { Usage } from '../items/schemas';
import type { CallFacts } from '../shared/approval-policy';
import type { SandboxPolicy } from '../shared/sandbox-policy';

export { NO_CONTEXT, type ContextState } from '../shared/context-state';
import type { ContextState } from '../shared/context-state';

export interface BeginTurnInput {
  readonly threadId: string;
  readonly turn: number;
  readonly head: string | null;
  readonly settings: SessionSettings;
  /** The user's message as text (turns recorded before `userItem` existed, or when storing it failed). */
  readonly userText?: string;
  /** Hash of the user's message item, already in the store: the text stays out of history. */
  readonly userItem?: string;
  readonly context: ContextState;
}

export interface BeginTurnResult {
  /** The new head: the old one plus context updates, aborted outputs and the user message. */
  readonly head: string;
  readonly context: ContextState;
  /** Calls of earlier turns that had no output and were given an "aborted" one. */
  readonly abortedCalls: string[];
  readonly userMessage: string;
  /** Size of everything appended, for the context estimate. */
  readonly appendedBytes: number;
}

/** A tool call the model asked for, as the workflow sees it. */
export interface ToolCallRef {
  readonly callId: string;
  readonly name: string;
  /** Hash of the function_call / custom_tool_call item in the store. */
  readonly itemHash: string;
  /**
   * True for a `custom_tool_call` (freeform input), whose output must be a
   * `custom_tool_call_output`; absent in calls recorded before this field existed.
   */
  readonly custom?: boolean;
  readonly parallelSafe: boolean;
  readonly summary: string;
  readonly timeoutMs: number;
  /** What the approval policy needs to decide on the call. */
  readonly facts: CallFacts;
}

/** Input of `readWorkspaceContext`: the settings name the workspace (cwd) and the rest of the context. */
export interface WorkspaceContextInput {
  readonly threadId: string;
  readonly settings: SessionSettings;
}

/** The initial context read on the workspace's host, by reference: its stored messages, in order. */
export interface WorkspaceContextRef {
  readonly items: string[];
  readonly state: ContextState;
}

/** A displayable output item (assistant message, reasoning or a hosted web search) of a response. */
export interface OutputRef {
  readonly hash: string;
  readonly type: 'agent_message' | 'reasoning' | 'web_search';
  /** At most a few hundred characters, for status lines and queries. */
  readonly excerpt: string;
}

export interface InferenceInput {
  readonly threadId: string;
  readonly turn: number;
  readonly step: number;
  readonly head: string;
  /** Item hashes appended to `head` before the request (tool outputs of the last step). */
  readonly append: readonly string[];
  readonly settings: SessionSettings;
}

export interface InferenceResult {
  /** `head` + appended items + the response's output items. */
  readonly head: string;
  readonly calls: ToolCallRef[];
  readonly outputs: OutputRef[];
  readonly usage: Usage;
  readonly responseId: string | null;
  /** Approximate size of the request input, for accounting and display. */
  readonly inputItems: number;
  readonly inputBytes: number;
  /** Size of the response's output items, for the context estimate. */
  readonly outputBytes: number;
}

export interface RunToolInput {
  readonly threadId: string;
  readonly turn: number;
  readonly step: number;
  readonly call: ToolCallRef;
  readonly cwd: string;
  readonly shellTimeoutMs: number;
  /** The sandbox the call runs in; null runs it unsandboxed (danger-full-access or an approved escalation). */
  readonly sandbox: SandboxPolicy | null;
  /**
   * Variables the tool's processes must not see whatever the worker's policy says: the
   * thread's provider key variable (a worker's config may not know that provider).
   */
  readonly secretEnvNames?: readonly string[];
  /** The thread's recorded tool environment (`SessionSettings.toolEnvironment`); absent: the worker's. */
  readonly environment?: string;
  /** The tools the thread may call (its recorded list); absent: the three of threads from before the list. */
  readonly toolNames?: readonly string[];
  /** The thread's model (some outputs depend on it, e.g. view_image's detail); absent in older calls. */
  readonly model?: string;
  /** The record of the called tool when the thread found it at its start (an MCP server's tool). */
  readonly dynamicTool?: DynamicToolRecord;
}

/** Input of `listMcpTools`: the thread whose MCP servers are started and listed on its host. */
export interface ListMcpToolsInput {
  readonly threadId: string;
  readonly settings: SessionSettings;
}

/** A server whose tools could not be listed, for the user. */
export interface McpStartupFailure {
  readonly server: string;
  /** Names the server and its config key. */
  readonly message: string;
}

/** The thread's tool list with its MCP servers' tools added, and the servers that failed. */
export interface ListMcpToolsResult {
  readonly tools: NonNullable<SessionSettings['tools']>;
  readonly failures: McpStartupFailure[];
}

export interface RunToolResult {
  readonly callId: string;
  readonly outputHash: string;
  readonly success: boolean;
  /** True when the call was cut short by a crash and not re-run. */
  readonly interrupted: boolean;
  /** Small facts for display (exit code, duration, changed paths, plan). */
  readonly metadata: Record<string, unknown>;
  /** Size of the stored output item, for the context estimate. */
  readonly outputBytes: number;
}

/**
 * Input of `runToolAndInfer`: one tool call, then at once the next model request with
 * that call's output appended (see src/activities/tool-and-request.ts).
 */
export interface RunToolAndInferInput extends RunToolInput {
  /** The thread's settings, for the request (and the worker's store check). */
  readonly settings: SessionSettings;
  /**
   * The request that follows: its step number, the head the call's output is appended to,
   * and the turn's context estimate before the call (with the output's size, over the
   * thread's auto-compaction limit: no request, the turn compacts first).
   */
  readonly next: { readonly step: number; readonly head: string; readonly contextTokens: number };
}

export interface RunToolAndInferResult {
  readonly tool: RunToolResult;
  /** The next request's response; null when it failed (`nextFailure`), the turn must compact first, or the turn was interrupted. */
  readonly next: InferenceResult | null;
  /**
   * Why the request gave no response. A failure `runInference` would not retry either
   * (`type` is one of NON_RETRYABLE_INFERENCE_FAILURES: a rejected request, a context
   * overflow) is the step's answer; after any other, the turn asks again with
   * `runInference`'s own retries, waiting `retryAfterMs` first when the provider asked.
   */
  readonly nextFailure?: { readonly message: string; readonly type?: string; readonly nonRetryable?: boolean; readonly retryAfterMs?: number };
}

/** What `toolResultSignal` tells a turn: a call of a `runToolAndInfer` finished while its request still runs. */
export interface ToolResultAnnouncement {
  readonly step: number;
  readonly result: RunToolResult;
}

/** A tool output the workflow had to make up (the tool activity itself gave up). */
export interface StoreToolOutputInput {
  readonly callId: string;
  readonly custom: boolean;
  readonly text: string;
}

/** A message the workflow adds to the transcript (steering input, the interruption marker). */
export interface StoreMessageInput {
  readonly role: 'user' | 'developer';
  readonly text: string;
}

export interface CommitAppendInput {
  readonly threadId: string;
  readonly turn: number;
  readonly head: string;
  readonly append: readonly string[];
  readonly meta?: Record<string, unknown>;
}

export interface RecoverTurnHeadInput {
  readonly threadId: string;
  readonly turn: number;
}
