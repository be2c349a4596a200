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
   * The whole environment of the processes a tool starts, already filtered by the
   * worker's shell environment policy (see ./environment.ts). Processes never inherit the
   * worker's own environment; absent means an empty one.
   */
  readonly env?: Readonly<Record<string, string>>;
}

/** What a tool returns: the text for the model plus small metadata for display. */
export interface ToolResult {
  /** Sent to the model verbatim as the function_call_output `output`. */
  readonly output: string;
  /** False when the tool itself failed (the model is told through `output`). */
  readonly success: boolean;
  /** Small, JSON-serialisable facts about the run; never the full output. */
  readonly metadata: Record<string, unknown>;
}
