/**
 * The public surface of the workflows: their inputs and results, and the updates and
 * queries the client uses. Clients import these constants instead of repeating names.
 */
import { defineQuery, defineSignal, defineUpdate, type Sinks } from '@temporalio/workflow';
import type { CompactResult } from '../activities/compaction';
import type { HostMove } from '../activities/failover';
import type { ContextState, McpStartupFailure, OutputRef, ToolCallRef, ToolResultAnnouncement } from '../activities/types';
import type { SessionSettings } from '../config/settings';
import type { CheckpointOutcome } from '../checkpoints/types';
import type { Usage } from '../items/schemas';

/** How a turn ended. */
export type TurnStatus = 'running' | 'completed' | 'failed' | 'interrupted';

/** Input of TurnWorkflow: everything one turn needs, by reference. */
export interface TurnInput {
  readonly threadId: string;
  readonly turn: number;
  readonly head: string | null;
  readonly settings: SessionSettings;
  /**
   * The user's message, by reference: the hash of the message item the session stored,
   * so the text is in history once (the update that delivered it). Turns recorded
   * before this field existed, and turns whose session could not store the text, carry
   * `userText` instead.
   */
  readonly userItem?: string;
  /** The user's message as text, when it is not passed as `userItem`. */
  readonly userText?: string;
  readonly context: ContextState;
  /** Estimated tokens of the transcript at `head`. */
  readonly contextTokens: number;
  /** Approval keys the user granted "for the session" (see sessionApprovalKey). */
  readonly approvedForSession?: string[];
  /** Present in a run that continues an earlier run of the same turn (continue-as-new). */
  readonly resume?: TurnResumeState;
  /** The thread's latest workspace checkpoint (src/checkpoints); absent or null: none yet. */
  readonly checkpoint?: string | null;
}

/** The loop state a turn carries into its next run: the head and small counters only. */
export interface TurnResumeState {
  readonly head: string;
  readonly step: number;
  readonly usage: Usage;
  readonly contextTokens: number;
  readonly context: ContextState;
  /** Tool outputs not yet sent to the model. */
  readonly append: string[];
  readonly lastMessage: OutputRef | null;
  readonly compactions: number;
  readonly run: number;
  /**
   * Steering messages received but not yet sent to the model: a stored message's hash
   * and excerpt, or the text itself (plain strings, as runs before references carried them).
   */
  readonly pendingInputs: (string | { readonly item: string; readonly excerpt: string })[];
  readonly approvedForSession: string[];
  /** The thread's latest workspace checkpoint. */
  readonly checkpoint?: string | null;
  /** The last few progress events, so a watcher that lags a little misses nothing. */
  readonly recentEvents: TurnEvent[];
}

/** A failure that ended a turn, for the user. */
export interface TurnError {
  readonly type: string;
  readonly message: string;
}

/** Result of TurnWorkflow. */
export interface TurnResult {
  readonly status: Exclude<TurnStatus, 'running'>;
  readonly head: string | null;
  readonly context: ContextState;
  readonly lastMessage: OutputRef | null;
  readonly usage: Usage;
  readonly steps: number;
  readonly error: TurnError | null;
  readonly contextTokens: number;
  readonly compactions: number;
  readonly approvedForSession?: string[];
  /**
   * Where the thread lives after the turn moved it off a lost host (host failover, see
   * src/workflows/workspace.ts): its new pin and cwd, which the session keeps for later
   * turns. Absent when the turn did not move.
   */
  readonly relocation?: { readonly host: NonNullable<SessionSettings['host']>; readonly cwd: string };
  /** The thread's latest workspace checkpoint after the turn (absent in turns from before checkpoints). */
  readonly checkpoint?: string | null;
  /** The `seq` of the turn's last progress event (absent in turns from before it was told): a follower that saw it has seen them all. */
  readonly lastEventSeq?: number;
}

/**
 * The sink the turn workflow hands each progress event to as it happens
 * (`proxySinks`): the worker process that runs the turn publishes it to its followers in
 * the same process (src/shared/turn-event-bus.ts), who then need not poll the progress
 * query for it. Not called while a workflow replays; not part of the history.
 */
export interface TurnProgressSinks extends Sinks {
  turnProgress: { event(event: TurnEvent): void };
}

/** A compaction, as recorded in progress events and session results. */
export type CompactionSummary = Pick<CompactResult, 'head' | 'mode' | 'reason' | 'tokensBefore' | 'tokensAfter' | 'droppedItems'>;

/** The result of the `compact` update: the compaction, and the thread's move if its pinned host was found lost (host failover). */
export type ManualCompaction = CompactionSummary & { readonly moved?: HostMove };

/** One entry of a turn's progress log, for live display. Small by construction. */
export type TurnEvent =
  | {
      readonly seq: number;
      readonly kind: 'turn.started';
      readonly head: string;
      readonly abortedCalls: string[];
      /** The workspace the turn's tools act in (absent in turns recorded before it was told), for absolute paths in displays. */
      readonly cwd?: string;
    }
  | { readonly seq: number; readonly kind: 'step.started'; readonly step: number }
  | { readonly seq: number; readonly kind: 'output'; readonly step: number; readonly ref: OutputRef }
  | { readonly seq: number; readonly kind: 'tool.started'; readonly step: number; readonly call: ToolCallRef }
  | {
      readonly seq: number;
      readonly kind: 'tool.completed';
      readonly step: number;
      readonly callId: string;
      readonly name: string;
      readonly outputHash: string;
      readonly success: boolean;
      readonly interrupted: boolean;
      readonly metadata: Record<string, unknown>;
    }
  | { readonly seq: number; readonly kind: 'step.completed'; readonly step: number; readonly usage: Usage; readonly head: string; readonly contextTokens: number }
  | { readonly seq: number; readonly kind: 'compaction'; readonly step: number; readonly compaction: CompactionSummary }
  | { readonly seq: number; readonly kind: 'run.continued'; readonly step: number; readonly run: number }
  | { readonly seq: number; readonly kind: 'approval.requested'; readonly step: number; readonly call: ToolCallRef; readonly reason: string }
  | { readonly seq: number; readonly kind: 'approval.resolved'; readonly step: number; readonly callId: string; readonly decision: ApprovalOutcome }
  | { readonly seq: number; readonly kind: 'input.injected'; readonly step: number; readonly text: string }
  | { readonly seq: number; readonly kind: 'turn.interrupted'; readonly step: number; readonly reason: string }
  | { readonly seq: number; readonly kind: 'host.moved'; readonly step: number; readonly move: HostMove }
  | { readonly seq: number; readonly kind: 'checkpoint'; readonly step: number; readonly checkpoint: StepCheckpoint };

/**
 * A step's workspace checkpoint as progress events carry it: the id (null when the
 * workspace is empty or nothing could be taken), whether it is new, how many files
 * changed, and why there is none when it was skipped.
 */
export interface StepCheckpoint {
  readonly status: CheckpointOutcome['kind'];
  readonly id: string | null;
  readonly changeCount: number;
  readonly reason?: string;
}

/** A tool call waiting for the user's decision. */
export interface PendingApproval {
  readonly callId: string;
  readonly name: string;
  readonly summary: string;
  readonly reason: string;
  readonly justification: string | null;
  readonly step: number;
}

/** The user's answer to an approval request. */
export type ApprovalDecision = 'approve' | 'approve-for-session' | 'deny' | 'abort';

/** How an approval request ended (a timeout counts as a denial). */
export type ApprovalOutcome = ApprovalDecision | 'timeout';

/** Arguments of the approval update; `callId` may be left out when exactly one call waits. */
export interface ApprovalAnswer {
  readonly callId?: string;
  readonly decision: ApprovalDecision;
}

/** Answers a pending approval of the running turn (validated: the call must be waiting). */
export const answerApprovalUpdate = defineUpdate<{ callId: string; decision: ApprovalDecision }, [ApprovalAnswer]>('answerApproval');

/** Interrupts the running turn: the running tool is killed, the model stream cancelled. */
export const interruptSignal = defineSignal<[{ reason?: string }]>('interrupt');

/**
 * A steering message for a running turn: by reference (`item`, the hash of the stored
 * user message, with a short `excerpt` for display), or as `text` (sessions recorded
 * before messages went by reference, or when storing the text failed).
 */
export type SteerInput = { readonly text: string } | { readonly item: string; readonly excerpt: string };

/** Queues a user message for the running turn; it goes to the model before the next request. */
export const steerSignal = defineSignal<[SteerInput]>('steer');

/**
 * Sent by a `runToolAndInfer` activity to its own turn when the call has finished and the
 * next request is still running after a moment: the turn shows the call's completion at
 * once, not when the model answers. An announcement for a call the turn no longer waits
 * for is ignored.
 */
export const toolResultSignal = defineSignal<[ToolResultAnnouncement]>('toolResult');

/** Answer of the turn progress query. */
export interface TurnProgress {
  readonly status: TurnStatus;
  readonly step: number;
  readonly head: string | null;
  readonly usage: Usage;
  readonly contextTokens: number;
  readonly pendingApprovals: PendingApproval[];
  /** Events with `seq` greater than the query's `after`, oldest first. */
  readonly events: TurnEvent[];
  readonly error: TurnError | null;
}

/** Live progress of a turn; pass the last `seq` seen to get only newer events. */
export const turnProgressQuery = defineQuery<TurnProgress, [{ after: number }]>('turnProgress');

/** Summary of a finished turn, kept in the session. */
export interface TurnSummary {
  readonly turn: number;
  readonly status: Exclude<TurnStatus, 'running'>;
  readonly steps: number;
  readonly usage: Usage;
  readonly lastMessage: OutputRef | null;
  readonly error: TurnError | null;
}

/** Durable state of a thread, carried across continue-as-new. */
export interface SessionState {
  readonly head: string | null;
  readonly turns: number;
  readonly usage: Usage;
  readonly context: ContextState;
  readonly lastTurn: TurnSummary | null;
  /** Estimated tokens of the transcript at `head`. */
  readonly contextTokens: number;
  /** Where a forked thread came from (`unroll fork`); absent for a thread started fresh. */
  readonly origin?: ThreadOrigin;
  /** Approval keys the user granted for the whole thread. */
  readonly approvedForSession?: string[];
  /** The thread's latest workspace checkpoint (src/checkpoints). */
  readonly checkpoint?: string | null;
}

/** The thread, turn and step a forked thread was started from, and what the fork changed. */
export interface ThreadOrigin {
  readonly threadId: string;
  readonly turn: number;
  readonly step: number;
  /** The call whose output the fork replaced, if any. */
  readonly editedCallId: string | null;
  /** Whether the fork runs with other base instructions / another model than its parent. */
  readonly instructionsChanged: boolean;
  readonly model: string;
}

/** Input of SessionWorkflow. */
export interface SessionInput {
  readonly threadId: string;
  readonly settings: SessionSettings;
  /** Present when continuing an existing thread (continue-as-new), and for a fork (its starting head and `origin`). */
  readonly state?: SessionState;
}

/** Settings a user may change between turns; a change is announced to the model, never edited in. */
export interface SettingsChange {
  readonly model?: string;
  readonly reasoningEffort?: SessionSettings['reasoningEffort'];
  readonly approvalPolicy?: SessionSettings['approvalPolicy'];
  readonly cwd?: string;
  /** `exec resume --dangerously-bypass-approvals-and-sandbox`: announced to the model as a permissions change. */
  readonly sandboxMode?: SessionSettings['sandboxMode'];
  /** `exec resume --output-schema`: the schema's store hash, or null to answer in free text again. */
  readonly outputSchema?: string | null;
}

/** Arguments of the submit-input update. */
export interface SubmitInputArgs {
  readonly text: string;
  /**
   * The user's message, already stored by the client (its hash): `exec -i` puts the
   * images there with `text` (src/client/exec-images.ts). Absent: the message is `text`.
   */
  readonly item?: string;
  /** Applied to the thread before this input's turn starts. */
  readonly settings?: SettingsChange;
}

/** Result of the submit-input update: which turn will handle the input. */
export interface SubmitInputResult {
  readonly turn: number;
  readonly turnWorkflowId: string;
}

/** User input for the thread; resolves once the turn that handles it has started. */
export const submitInputUpdate = defineUpdate<SubmitInputResult, [SubmitInputArgs]>('submitInput');

/** Where a sent message went. */
export interface SendInputResult {
  /** `running-turn`: injected into the turn that runs now; `new-turn`: it starts (or queues) a turn. */
  readonly delivered: 'running-turn' | 'new-turn';
  readonly turn: number;
  readonly turnWorkflowId: string;
}

/** Steering: a message for the running turn if there is one, else the input of a new turn. */
export const sendInputUpdate = defineUpdate<SendInputResult, [SubmitInputArgs]>('sendInput');

/** Compacts the thread's transcript now (between turns); resolves with what happened. */
export const compactUpdate = defineUpdate<ManualCompaction, []>('compact');

/**
 * Arguments of the rewind update (`unroll rewind`), computed by the client from the
 * thread's record: the step rewound to, the checkpoint holding its workspace, and the
 * transcript and context the next turn starts from (as a fork at that step would).
 */
export interface RewindArgs {
  /** The step, `<turn>.<step>`. */
  readonly to: string;
  readonly checkpoint: string;
  readonly head: string | null;
  readonly context: ContextState;
  readonly contextTokens: number;
}

/** What a rewind did. */
export interface RewindResult {
  readonly to: string;
  readonly checkpoint: string;
  readonly head: string | null;
  /** The turn that runs next, from the rewound point. */
  readonly nextTurn: number;
  /** Files in the restored workspace (ignored files not counted). */
  readonly files: number;
}

/**
 * Sets the thread back to a step: its workspace is reset to the step's checkpoint on the
 * pinned host, and the next turn starts from the step's transcript point. Refused while a
 * turn runs or waits. The later turns stay in the record.
 */
export const rewindUpdate = defineUpdate<RewindResult, [RewindArgs]>('rewind');

/** Answer of the session query. */
export interface SessionView extends SessionState {
  readonly threadId: string;
  readonly settings: SessionSettings;
  /** The turn running now, if any. */
  readonly runningTurn: number | null;
  readonly queuedInputs: number;
  /** MCP servers that failed to start when the thread listed its tools (absent: none failed, or none listed yet). */
  readonly mcpFailures?: McpStartupFailure[];
}

/** The session's current state. */
export const sessionQuery = defineQuery<SessionView>('session');

/** Largest user message accepted in one update (larger input belongs in a file); see src/shared/user-input.ts. */
export { MAX_USER_INPUT_BYTES } from '../shared/user-input';

/**
 * What each query, signal and update does, for the Web UI and `temporal workflow
 * metadata` (given with `setHandler`, where the SDK takes descriptions).
 */
export const HANDLER_DESCRIPTIONS = {
  session: "The thread's state: settings, turn count, running turn, token usage",
  submitInput: 'User input for the thread ({ text, settings? }); resolves once the turn that handles it has started',
  sendInput: 'A message for the running turn if there is one (steering), else the input of a new turn',
  compact: "Compacts the thread's transcript now (between turns); resolves with what happened",
  rewind: 'Rewinds the thread to an earlier turn or step (between turns)',
  turnProgress: 'Live events of the turn after sequence number { after }',
  interrupt: 'Interrupts the running turn: its tool is killed, its model stream cancelled',
  steer: 'Queues a user message for the running turn, sent to the model before its next request',
  answerApproval: 'Answers a tool call of the running turn that waits for approval ({ callId, decision })',
  toolResult: "A tool call of the turn finished while the next model request runs (sent by the turn's own activity)",
} as const;
