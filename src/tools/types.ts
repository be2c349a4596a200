import type { DynamicToolRecord } from '../config/settings';
import type { ToolOutput } from '../items/schemas';
import type { SandboxPolicy } from '../shared/sandbox-policy';

/**
 * The contract every tool handler implements. A handler turns validated arguments into
 * a {@link ToolResult}: what the model sees as the call's output, whether the call
 * succeeded, and small metadata for display (exit code, duration, changed paths).
 *
 * Two kinds of failure, as in Codex: a failure the model can recover from (bad
 * arguments, a non-zero exit, a patch that does not apply, a timeout) is a normal
 * result with `success: false`; an infrastructure failure (the store is unreachable)
 * is thrown so Temporal retries the activity.
 */
export interface ToolContext {
  /** Absolute path of the workspace the session runs in; tools may not leave it. */
  readonly cwd: string;
  /** Aborted when the activity is cancelled or the worker shuts down. */
  readonly signal: AbortSignal;
  /** Reports liveness to Temporal; long-running tools call it periodically. */
  readonly heartbeat: (details?: unknown) => void;
  /** The model's call id, for messages and logs. */
  readonly callId: string;
  /** The activity attempt (1 for the first); a tool may treat a retry specially. */
  readonly attempt?: number;
  /** The sandbox to run processes in; absent or null means none. */
  readonly sandbox?: SandboxPolicy | null;
  /**
   * A small durable record of this call that survives the worker (the tool activity keeps
   * it in the store); a tool that changes the world in several steps notes its plan here so
   * a retry can finish it exactly. Absent outside the activity.
   */
  readonly journal?: CallJournal;
  /**
   * Test hook, never set in normal runs: awaited between the steps of a change made in
   * several steps (apply_patch: `apply_patch:staged:<path>`, `apply_patch:committed:<path>`),
   * so a crash test can stop a worker at an exact point.
   */
  readonly stepHook?: (step: string) => Promise<void>;
  /**
   * The whole environment of the processes a tool starts, already filtered by the
   * worker's shell environment policy (see ./environment.ts). Processes never inherit the
   * worker's own environment; absent means an empty one.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** The thread and turn of the call (the tool activity gives them; exec sessions belong to them). */
  readonly threadId?: string;
  readonly turn?: number;
  /**
   * Durable small records shared by the calls of a thread (store markers; the tool
   * activity gives them): exec_command notes which worker holds a session, so write_stdin
   * can tell a session lost with its worker from one that never existed.
   */
  readonly markers?: { get(key: string): Promise<string | undefined>; put(key: string, value: string): Promise<void> };
  /** Stores bytes in the transcript store and returns their hash (the tool activity gives it; e.g. view_image's image). */
  readonly putBlob?: (data: Buffer) => Promise<string>;
  /** Runs a call of an MCP server's tool on this host (the tool activity gives it; see src/activities/mcp.ts). */
  readonly mcp?: McpCaller;
}

/** Calls the tools of the thread's MCP servers (started once per worker process and reused). */
export interface McpCaller {
  /** `model` is the thread's (images are sent at the detail Codex uses for it). */
  call(record: DynamicToolRecord, args: Record<string, unknown>, ctx: Pick<ToolContext, 'signal' | 'heartbeat'>, model: string | undefined): Promise<ToolResult>;
}

/** See {@link ToolContext.journal}: one string per call, read back by a retry of the call. */
export interface CallJournal {
  read(): Promise<string | undefined>;
  write(value: string): Promise<void>;
}

/** Content parts of a tool output (see ToolResult.content). */
export type ToolOutputContent = Exclude<ToolOutput, string>[number];

/** What a tool returns: the text for the model plus small metadata for display. */
export interface ToolResult {
  /** Sent to the model verbatim as the function_call_output `output` (unless `content` is given). */
  readonly output: string;
  /** False when the tool itself failed (the model is told through `output`). */
  readonly success: boolean;
  /** Small, JSON-serialisable facts about the run; never the full output. */
  readonly metadata: Record<string, unknown>;
  /**
   * Content parts the model gets instead of `output` (a function call's output only):
   * text and images stored by hash (`view_image`). `output` then describes them for displays.
   */
  readonly content?: ToolOutputContent[];
}
