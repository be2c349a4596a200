/**
 * Starting a fork: a new thread whose transcript begins at a step of another thread
 * (see ../history/fork-point.ts for exactly which transcript), optionally with one tool
 * output replaced, another model or other base instructions, and whose first turn runs
 * live with a new user message. The new thread's state records its origin.
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { buildRequestInput } from '../activities/model-client';
import { SessionSettings } from '../config/settings';
import { forkPoint, replaceToolOutput, type ForkPoint } from '../history/fork-point';
import { parseStepRef } from '../history/step-ref';
import type { ThreadRun } from '../history/thread-run';
import { ZERO_USAGE } from '../items/usage';
import { estimateTokens } from '../prompt/compaction';
import type { HostPin } from '../shared/hosts';
import { sessionWorkflowId } from '../shared/ids';
import type { TranscriptStore } from '../store/transcript-store';
import { submitInputUpdate, type SessionState, type SubmitInputResult, type ThreadOrigin } from '../workflows/definitions';
import type { SessionWorkflow } from '../workflows';
import { DebugUsageError } from './debug-command';
import { newThreadId } from './threads';
import { selectThreadTools } from '../tools/thread-tools';

/** The user message of the fork's first turn when none is given. */
export const DEFAULT_FORK_MESSAGE = 'Continue from where you left off.';

/** What to fork and how. */
export interface ForkOptions {
  /** The step to fork at: `<turn>.<step>` (see `unroll show`). */
  readonly at: string;
  /** Task queue of the worker that runs the fork (its workflows, and its tools without `host`). */
  readonly taskQueue: string;
  /** The host the fork is pinned to (the forking CLI's); absent: tools run on `taskQueue`. */
  readonly host?: HostPin;
  readonly message?: string;
  readonly model?: string;
  readonly baseInstructions?: string;
  readonly editOutput?: { readonly callId: string; readonly text: string };
  /** Other settings for the fork (provider, cwd, …), over the parent's. */
  readonly settings?: Partial<SessionSettings>;
  /** Values for settings the parent's record lacks (recorded by an older Unroll). */
  readonly defaults?: Omit<SessionSettings, 'cwd'>;
  readonly threadId?: string;
  /**
   * The workspace checkpoint the fork starts from (its files were written to its cwd):
   * recorded as the new thread's checkpoint, so its first checkpoint chains from it and
   * checkout before that finds it. Absent: a fork without files.
   */
  readonly checkpoint?: string | null;
}

/** A started fork. */
export interface StartedFork extends SubmitInputResult {
  readonly threadId: string;
  readonly origin: ThreadOrigin;
  readonly point: ForkPoint;
  readonly settings: SessionSettings;
}

/** Parses `--edit-output <callId>=<file>` into its two halves. */
export function parseEditOutput(text: string): { callId: string; file: string } {
  const at = text.indexOf('=');
  if (at <= 0 || at === text.length - 1) throw new DebugUsageError(`--edit-output expects <callId>=<file>, got "${text}"`);
  return { callId: text.slice(0, at), file: text.slice(at + 1) };
}

/** The fork's settings: the parent's, with the fork's changes; validated. */
function forkSettings(run: ThreadRun, options: ForkOptions): SessionSettings {
  if (!run.settings) throw new DebugUsageError(`thread ${run.threadId} has no recorded settings (its session history is missing): cannot fork it`);
  const merged = {
    ...options.defaults,
    ...run.settings,
    ...options.settings,
    toolTaskQueue: options.host?.taskQueue ?? options.taskQueue,
    host: options.host,
    ...(options.model ? { model: options.model } : {}),
    ...(options.baseInstructions !== undefined ? { baseInstructions: options.baseInstructions } : {}),
  };
  // A fork to another model gets that model's tools; otherwise the parent's (none recorded: the parent's three).
  const modelChanged = options.model !== undefined && options.model !== run.settings.model && run.settings.tools !== undefined;
  const parsed = SessionSettings.safeParse(modelChanged ? { ...merged, tools: selectThreadTools(merged) } : merged);
  if (!parsed.success) throw new DebugUsageError(`the fork's settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * Starts the fork and its first turn (update-with-start, like a new thread); resolves
 * once the turn has started. `store` must be the store the workers read.
 */
export async function forkThread(client: Client, store: TranscriptStore, run: ThreadRun, options: ForkOptions): Promise<StartedFork> {
  const settings = forkSettings(run, options);
  const point = await forkPoint(run, parseStepRef(options.at), store);
  const head = options.editOutput ? await replaceToolOutput(store, point.head, options.editOutput.callId, options.editOutput.text) : point.head;
  const origin: ThreadOrigin = {
    threadId: run.threadId,
    turn: point.turn,
    step: point.step,
    editedCallId: options.editOutput?.callId ?? null,
    instructionsChanged: options.baseInstructions !== undefined && options.baseInstructions !== run.settings?.baseInstructions,
    model: settings.model,
  };
  const state: SessionState = {
    head,
    turns: 0,
    usage: ZERO_USAGE,
    context: point.context,
    lastTurn: null,
    contextTokens: head === null ? 0 : estimateTokens(await buildRequestInput(store, head, [])),
    origin,
    ...(options.checkpoint !== undefined ? { checkpoint: options.checkpoint } : {}),
  };
  const threadId = options.threadId ?? newThreadId();
  const text = options.message ?? DEFAULT_FORK_MESSAGE;
  const start = new WithStartWorkflowOperation<typeof SessionWorkflow>('SessionWorkflow', {
    workflowId: sessionWorkflowId(threadId),
    taskQueue: options.taskQueue,
    args: [{ threadId, settings, state }],
    workflowIdConflictPolicy: 'FAIL',
    staticSummary: `fork of ${run.threadId} at ${point.turn}.${point.step}: ${text.replace(/\s+/g, ' ').slice(0, 60)}`,
  });
  const started = await client.workflow.executeUpdateWithStart(submitInputUpdate, { args: [{ text }], startWorkflowOperation: start });
  return { ...started, threadId, origin, point: { ...point, head }, settings };
}
