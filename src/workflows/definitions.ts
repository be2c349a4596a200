/**
 * The public surface of the workflows: their inputs and results, and the updates and
 * queries the client uses. Clients import these constants instead of repeating names.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ContextState, OutputRef, ToolCallRef } from '../activities/types';
import type { SessionSettings } from '../config/settings';
import type { Usage } from '../items/schemas';

/** How a turn ended. */
export type TurnStatus = 'running' | 'completed' | 'failed' | 'interrupted';

/** Input of TurnWorkflow: everything one turn needs, by reference. */
export interface TurnInput {
  readonly threadId: string;
  readonly turn: number;
  readonly head: string | null;
  readonly settings: SessionSettings;
  readonly userText: string;
  readonly context: ContextState;
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
}

/** One entry of a turn's progress log, for live display. Small by construction. */
export type TurnEvent =
  | { readonly seq: number; readonly kind: 'turn.started'; readonly head: string; readonly abortedCalls: string[] }
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
  | { readonly seq: number; readonly kind: 'step.completed'; readonly step: number; readonly usage: Usage; readonly head: string };

/** Answer of the turn progress query. */
export interface TurnProgress {
  readonly status: TurnStatus;
  readonly step: number;
  readonly head: string | null;
  readonly usage: Usage;
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
}

/** Input of SessionWorkflow. */
export interface SessionInput {
  readonly threadId: string;
  readonly settings: SessionSettings;
  /** Present when continuing an existing thread (continue-as-new). */
  readonly state?: SessionState;
}

/** Arguments of the submit-input update. */
export interface SubmitInputArgs {
  readonly text: string;
}

/** Result of the submit-input update: which turn will handle the input. */
export interface SubmitInputResult {
  readonly turn: number;
  readonly turnWorkflowId: string;
}

/** User input for the thread; resolves once the turn that handles it has started. */
export const submitInputUpdate = defineUpdate<SubmitInputResult, [SubmitInputArgs]>('submitInput');

/** Answer of the session query. */
export interface SessionView extends SessionState {
  readonly threadId: string;
  readonly settings: SessionSettings;
  /** The turn running now, if any. */
  readonly runningTurn: number | null;
  readonly queuedInputs: number;
}

/** The session's current state. */
export const sessionQuery = defineQuery<SessionView>('session');

/** Largest user message accepted in one update (larger input belongs in a file). */
export const MAX_USER_INPUT_BYTES = 256 * 1024;
