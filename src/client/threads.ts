/**
 * Client-side operations on threads, shared by the CLI and the tests: start a thread,
 * submit the next turn, follow a running turn's progress, read a thread's state. The
 * update and query names come from the workflow definitions, never repeated here.
 */
import { randomUUID } from 'node:crypto';
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type { SessionSettings } from '../config/settings';
import { sessionWorkflowId, THREAD_ID } from '../shared/ids';
import {
  sessionQuery,
  submitInputUpdate,
  turnProgressQuery,
  compactUpdate,
  type CompactionSummary,
  type SessionView,
  type SettingsChange,
  type SubmitInputResult,
  type TurnEvent,
  type TurnResult,
} from '../workflows/definitions';
import type { SessionWorkflow, TurnWorkflow } from '../workflows';

/** A thread id that does not exist on the server. */
export class ThreadNotFoundError extends Error {
  override readonly name = 'ThreadNotFoundError';
  constructor(readonly threadId: string) {
    super(`thread ${threadId} not found (is the Temporal address right? \`unroll threads\` lists known threads)`);
  }
}

/** A thread id that is not well formed. */
export class InvalidThreadIdError extends Error {
  override readonly name = 'InvalidThreadIdError';
  constructor(readonly threadId: string) {
    super(`"${threadId}" is not a valid thread id (letters, digits, '.', '_' and '-', at most 128)`);
  }
}

/** A new thread id: time-ordered so that listings sort naturally. */
export function newThreadId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `th-${stamp}-${randomUUID().slice(0, 8)}`;
}

/** Starts a thread (SessionWorkflow) and its first turn in one update-with-start call. */
export async function startThread(
  client: Client,
  options: { threadId: string; settings: SessionSettings; text: string; taskQueue: string },
): Promise<SubmitInputResult> {
  if (!THREAD_ID.test(options.threadId)) throw new InvalidThreadIdError(options.threadId);
  const start = new WithStartWorkflowOperation<typeof SessionWorkflow>('SessionWorkflow', {
    workflowId: sessionWorkflowId(options.threadId),
    taskQueue: options.taskQueue,
    args: [{ threadId: options.threadId, settings: options.settings }],
    workflowIdConflictPolicy: 'FAIL',
    staticSummary: `thread: ${options.text.replace(/\s+/g, ' ').slice(0, 80)}`,
  });
  return client.workflow.executeUpdateWithStart(submitInputUpdate, { args: [{ text: options.text }], startWorkflowOperation: start });
}

/** Submits the next turn of an existing, running thread, optionally changing settings from that turn on. */
export async function submitTurn(client: Client, threadId: string, text: string, settings?: SettingsChange): Promise<SubmitInputResult> {
  if (!THREAD_ID.test(threadId)) throw new InvalidThreadIdError(threadId);
  const handle = client.workflow.getHandle<typeof SessionWorkflow>(sessionWorkflowId(threadId));
  try {
    return await handle.executeUpdate(submitInputUpdate, { args: [{ text, ...(settings ? { settings } : {}) }] });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ThreadNotFoundError(threadId);
    throw err;
  }
}

/** Compacts a thread's transcript now (after any running turn); resolves with what happened. */
export async function compactThread(client: Client, threadId: string): Promise<CompactionSummary> {
  if (!THREAD_ID.test(threadId)) throw new InvalidThreadIdError(threadId);
  try {
    return await client.workflow.getHandle<typeof SessionWorkflow>(sessionWorkflowId(threadId)).executeUpdate(compactUpdate);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ThreadNotFoundError(threadId);
    throw err;
  }
}

/** The current state of a thread. */
export async function describeThread(client: Client, threadId: string): Promise<SessionView> {
  if (!THREAD_ID.test(threadId)) throw new InvalidThreadIdError(threadId);
  try {
    return await client.workflow.getHandle(sessionWorkflowId(threadId)).query(sessionQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ThreadNotFoundError(threadId);
    throw err;
  }
}

/**
 * Follows a turn until it ends: polls its progress query and hands each new event to
 * `onEvent` in order, then returns the turn's result. Events are delivered exactly once
 * and in order even if a poll fails transiently (the next poll asks from the last seen).
 */
export async function followTurn(
  client: Client,
  turnWorkflowId: string,
  onEvent: (event: TurnEvent) => void | Promise<void>,
  options: { pollMs?: number; signal?: AbortSignal } = {},
): Promise<TurnResult> {
  const handle = client.workflow.getHandle<typeof TurnWorkflow>(turnWorkflowId);
  const pollMs = options.pollMs ?? 150;
  let after = 0;
  const drain = async () => {
    const progress = await handle.query(turnProgressQuery, { after });
    for (const event of progress.events) {
      if (event.seq <= after) continue;
      after = event.seq;
      await onEvent(event);
    }
  };
  const result = handle.result();
  let done = false;
  result.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done && !options.signal?.aborted) {
    try {
      await drain();
    } catch {
      // The query can fail while a worker restarts; the next poll catches up.
    }
    if (!done) await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const final = await result;
  try {
    await drain();
  } catch {
    // A closed turn whose worker is gone cannot be queried; the result is complete anyway.
  }
  return final;
}
