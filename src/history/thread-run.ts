/**
 * A thread as a debugger sees it: turns, numbered steps (`<turn>.<step>`), and per step
 * the request, the response, the tool calls, retries, failures and compactions. Built
 * from the workflow histories and the transcript store by ./build-run.ts; rendered by
 * `unroll show` and compared by `unroll diff`. Plain JSON data (`show --json` prints it).
 */
import type { SessionSettings } from '../config/settings';
import type { Usage } from '../items/schemas';
import type { ContextState } from '../shared/context-state';
import type { ThreadOrigin } from '../workflows/definitions';
import type { ActivityOutcome, RunStatus } from './history-events';
import type { HostMoveView } from './host-moves';

export type { HostMoveView } from './host-moves';

/** One activity, for display: how often it was tried and how it ended. Times are ISO strings. */
export interface ActivityView {
  readonly name: string;
  readonly summary: string | null;
  readonly attempts: number;
  /** The error that made Temporal retry it (the last one), if it was retried. */
  readonly lastRetryFailure: string | null;
  readonly outcome: ActivityOutcome;
  readonly failure: string | null;
  readonly failureType: string | null;
  readonly scheduledAt: string | null;
  readonly closedAt: string | null;
  /** From scheduling to the end of the last attempt: what the loop waited, retries included. */
  readonly durationMs: number | null;
  /** The activity's result when it is small bookkeeping (compaction, commit); else null. */
  readonly result: unknown;
}

/** A tool call the model asked for, and what became of it. */
export interface ToolCallRun {
  readonly callId: string;
  readonly name: string;
  /** The raw arguments (JSON text) or custom tool input, from the store. */
  readonly arguments: string | null;
  readonly summary: string;
  readonly status: 'completed' | 'failed' | 'interrupted' | 'not-run' | 'running';
  readonly exitCode: number | null;
  /** The tool's own run time when it reports one (shell), else the activity's. */
  readonly durationMs: number | null;
  readonly output: string | null;
  readonly outputHash: string | null;
  readonly itemHash: string;
  readonly metadata: Record<string, unknown> | null;
  /** True when the workflow made the output up (the tool activity gave up, or the call was denied). */
  readonly fallbackOutput: boolean;
  /** The person's answer when the call needed approval (absent: none asked, or it timed out). */
  readonly approval?: { readonly decision: string } | null;
  readonly activity: ActivityView | null;
}

/** A compaction: the transcript continued from a new root node. */
export interface CompactionView {
  /** The new root node and how many items it holds. */
  readonly root: string;
  readonly rootItems: number;
  readonly meta: Record<string, unknown> | null;
  /** The compaction activity that wrote it, when the history has one. */
  readonly activity: ActivityView | null;
}

/** One model request of a turn and everything that followed from its response. */
export interface StepRun {
  /** `<turn>.<step>`, the name `show --step`, `fork --at` and `diff` use. */
  readonly id: string;
  readonly turn: number;
  readonly step: number;
  /**
   * What the request was built from: a transcript head plus appended item hashes, and the
   * settings the inference ran with (model, reasoning effort, instructions: they change
   * between turns), as recorded in its activity input.
   */
  readonly request: {
    readonly head: string | null;
    readonly append: readonly string[];
    readonly inputItems: number | null;
    readonly inputBytes: number | null;
    readonly settings: SessionSettings | null;
  };
  readonly inference: ActivityView;
  /** Earlier requests of this step that failed for good (e.g. the context overflowed). */
  readonly rejected: readonly ActivityView[];
  readonly usage: Usage | null;
  readonly responseId: string | null;
  /** The head the inference returned: the request's transcript plus the response. */
  readonly outputHead: string | null;
  readonly reasoning: readonly string[];
  readonly messages: readonly string[];
  readonly toolCalls: readonly ToolCallRun[];
  /** Other activities between the previous step and this request (commits, compactions). */
  readonly before: readonly ActivityView[];
  /** Set when the request's transcript starts from a new root (a compaction). */
  readonly compaction: CompactionView | null;
  /** The workspace checkpoint taken after this step's tool calls (null: none was attempted). */
  readonly checkpoint: CheckpointView | null;
  /** Set on the first step of a turn run that continued an earlier one (continue-as-new). */
  readonly newRun: string | null;
}

/** One run of a workflow. */
export interface RunView {
  readonly runId: string;
  readonly status: RunStatus;
  readonly startedAt: string | null;
  readonly closedAt: string | null;
  readonly events: number;
}

/** One turn: the user's input and the steps it took. */
export interface TurnRun {
  readonly turn: number;
  readonly workflowId: string;
  readonly runs: readonly RunView[];
  /** The turn's own status (completed, failed, …), or the workflow's when it has no result. */
  readonly status: string;
  readonly error: { readonly type: string; readonly message: string } | null;
  readonly userText: string;
  readonly startHead: string | null;
  readonly endHead: string | null;
  readonly startedAt: string | null;
  readonly closedAt: string | null;
  readonly usage: Usage;
  readonly abortedCalls: readonly string[];
  /** The context state the turn started with (hashes of the context messages sent so far). */
  readonly startContext: ContextState;
  /** Index (0-based) of the session run that started this turn. */
  readonly sessionRun: number;
  readonly setup: ActivityView | null;
  /** A compaction between the previous turn and this one. */
  readonly compaction: CompactionView | null;
  readonly steps: readonly StepRun[];
  /** The checkpoint taken at the turn's start (step `<turn>.0`), null when none was attempted. */
  readonly startCheckpoint: CheckpointView | null;
  /** Activities after the last step (e.g. committing outputs of a failed turn). */
  readonly after: readonly ActivityView[];
  /** Host failovers during the turn, each at the step whose work it interrupted (0: the turn's start). */
  readonly hostMoves: readonly HostMoveView[];
}

/** A whole thread. */
export interface ThreadRun {
  readonly threadId: string;
  /** Status of the latest session run. */
  readonly status: RunStatus;
  readonly createdAt: string | null;
  readonly origin: ThreadOrigin | null;
  readonly settings: SessionSettings | null;
  readonly usage: Usage;
  readonly sessionRuns: readonly RunView[];
  /** Session-level activities (between-turn compactions, head recovery). */
  readonly sessionActivities: readonly ActivityView[];
  readonly turns: readonly TurnRun[];
  /**
   * The workspace checkpoint the thread started from: a fork's source's at the fork
   * point (null: the source's workspace was empty there); undefined when it started with
   * none (a new thread, or a fork without files).
   */
  readonly inheritedCheckpoint?: string | null;
  /** Rewinds (`unroll rewind`), in order. */
  readonly rewinds: readonly RewindView[];
  /** Host failovers between turns (a manual compaction found the pinned host lost). */
  readonly sessionHostMoves: readonly HostMoveView[];
}

/** A rewind: the thread's workspace and transcript were set back to step `to` before turn `beforeTurn`. */
export interface RewindView {
  /** The step rewound to, `<turn>.<step>`. */
  readonly to: string;
  /** The turn that runs next, from the rewound point. */
  readonly beforeTurn: number;
  /** The checkpoint the workspace was reset to. */
  readonly checkpoint: string;
  /** The transcript head the next turn starts from. */
  readonly head: string | null;
  readonly activity: ActivityView;
}

/** Every step of a thread in order. */
export function allSteps(run: ThreadRun): StepRun[] {
  return run.turns.flatMap((t) => t.steps);
}

/**
 * A step's workspace checkpoint as recorded: `created` (the files changed; `id` names the
 * new checkpoint), `unchanged` (`id` is the checkpoint the files still match; null when
 * there is none), `skipped` (no checkpoint: `reason` says why), or `running`.
 */
export interface CheckpointView {
  readonly status: 'created' | 'unchanged' | 'skipped' | 'running';
  readonly id: string | null;
  readonly changeCount: number;
  /** The first changed paths (the store's checkpoint record lists more). */
  readonly changes: readonly { readonly path: string; readonly status: string }[];
  readonly reason: string | null;
  readonly activity: ActivityView;
}
