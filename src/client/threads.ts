/**
 * Client-side operations on threads, shared by the CLI and the tests: start a thread,
 * submit the next turn, follow a running turn's progress, read a thread's state. The
 * update and query names come from the workflow definitions, never repeated here.
 */
import { randomUUID } from 'node:crypto';
import { searchAttributesRegistered } from '../temporal/search-attributes';
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import type { SessionSettings } from '../config/settings';
import { isServerUnavailable, ServerWatch } from './server-watch';
import { refusalExplained } from './request-errors';
import { assertCanWriteTo } from './thread-encryption';
import { InvalidThreadIdError, ThreadNotFoundError } from './thread-errors';
import { TurnWaits, type WaitNotice } from './turn-waits';
import { sessionWorkflowId, THREAD_ID } from '../shared/ids';
import { localTurnEvents } from '../shared/turn-event-bus';
import {
  sessionQuery,
  submitInputUpdate,
  turnProgressQuery,
  compactUpdate,
  type ManualCompaction,
  type SessionView,
  type SettingsChange,
  type SubmitInputResult,
  type TurnEvent,
  type TurnResult,
} from '../workflows/definitions';
import type { SessionWorkflow, TurnWorkflow } from '../workflows';

export { InvalidThreadIdError, ThreadNotFoundError } from './thread-errors';

/** A new thread id: time-ordered so that listings sort naturally. */
export function newThreadId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `th-${stamp}-${randomUUID().slice(0, 8)}`;
}

/** Starts a thread (SessionWorkflow) and its first turn in one update-with-start call. */
export async function startThread(
  client: Client,
  options: { threadId: string; settings: SessionSettings; text: string; taskQueue: string; item?: string },
): Promise<SubmitInputResult> {
  if (!THREAD_ID.test(options.threadId)) throw new InvalidThreadIdError(options.threadId);
  // Decided once, here: the session sets search attributes only where the server has them.
  const settings = options.settings.searchAttributes !== undefined ? options.settings : { ...options.settings, searchAttributes: await searchAttributesRegistered(client.connection, client.options.namespace) };
  const start = new WithStartWorkflowOperation<typeof SessionWorkflow>('SessionWorkflow', {
    workflowId: sessionWorkflowId(options.threadId),
    taskQueue: options.taskQueue,
    args: [{ threadId: options.threadId, settings }],
    workflowIdConflictPolicy: 'FAIL',
    staticSummary: `thread: ${options.text.replace(/\s+/g, ' ').slice(0, 80)}`,
  });
  return refusalExplained(options.threadId, 'input', () =>
    client.workflow.executeUpdateWithStart(submitInputUpdate, { args: [{ text: options.text, ...(options.item !== undefined ? { item: options.item } : {}) }], startWorkflowOperation: start }),
  );
}

/** Submits the next turn of an existing, running thread, optionally changing settings from that turn on. */
export async function submitTurn(client: Client, threadId: string, text: string, settings?: SettingsChange, item?: string): Promise<SubmitInputResult> {
  if (!THREAD_ID.test(threadId)) throw new InvalidThreadIdError(threadId);
  await assertCanWriteTo(client, threadId);
  const handle = client.workflow.getHandle<typeof SessionWorkflow>(sessionWorkflowId(threadId));
  try {
    return await refusalExplained(threadId, 'input', () => handle.executeUpdate(submitInputUpdate, { args: [{ text, ...(settings ? { settings } : {}), ...(item !== undefined ? { item } : {}) }] }));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ThreadNotFoundError(threadId);
    throw err;
  }
}

/** Compacts a thread's transcript now (after any running turn); resolves with what happened. */
export async function compactThread(client: Client, threadId: string): Promise<ManualCompaction> {
  if (!THREAD_ID.test(threadId)) throw new InvalidThreadIdError(threadId);
  await assertCanWriteTo(client, threadId);
  try {
    return await refusalExplained(threadId, 'compaction', () => client.workflow.getHandle<typeof SessionWorkflow>(sessionWorkflowId(threadId)).executeUpdate(compactUpdate), 'failed');
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

/** Options of {@link followTurn}. */
export interface FollowTurnOptions {
  /** Progress poll interval (ms). */
  readonly pollMs?: number;
  /** Stops following (the turn goes on). */
  readonly signal?: AbortSignal;
  /**
   * Told what the turn waits for, as it happens: the server is unreachable (and back), a
   * step failed and is retried, a step waits for a worker, progress cannot be read.
   */
  readonly onNotice?: (message: string, notice?: WaitNotice) => void;
  /** The server address named in notices (default: the client connection's). */
  readonly address?: string;
  /** How often the turn's workflow is described for retries and missing workers (ms). */
  readonly describeEveryMs?: number;
}

/** The turn's events could not be read to the end: what was shown may lack its last steps. */
export class TurnProgressUnreadableError extends Error {
  override readonly name = 'TurnProgressUnreadableError';
  constructor(readonly turnWorkflowId: string, readonly result: TurnResult, cause: unknown) {
    super(`turn ${turnWorkflowId} ended (${result.status}), but its last progress events could not be read: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** How often the progress query is polled while a worker in this process pushes the turn's events (ms). */
const LIVE_POLL_MS = 2_000;

/** Consecutive failed progress polls (other than outages) after which the user is told. */
const POLL_FAILURES_BEFORE_NOTICE = 5;

/**
 * Follows a turn until it ends: polls its progress query and hands each new event to
 * `onEvent` in order, then returns the turn's result. Events are delivered exactly once
 * and in order even if a poll fails transiently (the next poll asks from the last seen).
 * An error thrown by `onEvent` ends the follow with that error.
 *
 * It rides out a Temporal server outage of any length (a turn is durable; its worker
 * reconnects), telling `onNotice` once when the server is unreachable and once when it
 * is back; and it tells `onNotice` what the turn waits for (a retried step, a step no
 * worker takes), see {@link TurnWaits}. Throws {@link TurnProgressUnreadableError} when
 * the turn ended but its last events could not be read.
 */
export async function followTurn(
  client: Client,
  turnWorkflowId: string,
  onEvent: (event: TurnEvent) => void | Promise<void>,
  options: FollowTurnOptions = {},
): Promise<TurnResult> {
  const handle = client.workflow.getHandle<typeof TurnWorkflow>(turnWorkflowId);
  const pollMs = options.pollMs ?? 150;
  const notify = options.onNotice ?? (() => undefined);
  const watch = new ServerWatch(options.address ?? connectionAddress(client), notify);
  // Describing the turn is only worth it when someone is told what it waits for.
  const waits = options.onNotice ? new TurnWaits(client, notify, { everyMs: options.describeEveryMs }) : undefined;
  let after = 0;
  let step = 0;
  const deliver = async (event: TurnEvent) => {
    after = event.seq;
    if ('step' in event) step = Math.max(step, event.step);
    try {
      await onEvent(event);
    } catch (err) {
      throw new EventHandlerError(err);
    }
  };
  const drain = async () => {
    const progress = await watch.call(() => handle.query(turnProgressQuery, { after }));
    step = Math.max(step, progress.step);
    for (const event of progress.events) if (event.seq > after) await deliver(event);
  };
  // Events pushed by a worker in this process (src/shared/turn-event-bus.ts): while they
  // come, the query is only polled every LIVE_POLL_MS, for a gap or a move to another worker.
  const pushed: TurnEvent[] = [];
  let lastPushAt = -Infinity;
  let wake: (() => void) | undefined;
  const unsubscribe = localTurnEvents.subscribe(turnWorkflowId, (event) => {
    pushed.push(event);
    lastPushAt = performance.now();
    wake?.();
  });
  /** Hands on the pushed events that follow what was seen; true when one is missing before them (a poll fills it). */
  const deliverPushed = async (): Promise<boolean> => {
    while (pushed.length > 0) {
      const event = pushed.shift()!;
      if (event.seq <= after) continue;
      if (event.seq > after + 1) {
        pushed.length = 0;
        return true;
      }
      await deliver(event);
    }
    return false;
  };
  let outcome: { ok: true; value: TurnResult } | { ok: false; error: unknown } | undefined;
  const finished = watch.untilReachable(() => handle.result(), { signal: options.signal }).then(
    (value) => void (outcome = { ok: true, value }),
    (error: unknown) => void (outcome = { ok: false, error }),
  );
  void finished.then(() => wake?.());
  const onAbort = () => wake?.();
  options.signal?.addEventListener('abort', onAbort);
  let failedPolls = 0;
  let lastPollProblem = '';
  let queriedAt = -Infinity;
  try {
    while (!outcome && !options.signal?.aborted) {
      // While events are pushed, the query is only the safety net (a gap asks at once, below).
      const live = performance.now() - lastPushAt < LIVE_POLL_MS;
      try {
        if (!live || performance.now() - queriedAt >= LIVE_POLL_MS) {
          queriedAt = performance.now();
          await drain();
        }
        failedPolls = 0;
      } catch (err) {
        if (err instanceof EventHandlerError) throw err.cause;
        // The query fails while the server is away (the watch tells) or while the turn's
        // worker restarts; the next poll catches up. A failure that persists is told once.
        if (!isServerUnavailable(err) && ++failedPolls >= POLL_FAILURES_BEFORE_NOTICE) {
          const problem = err instanceof Error ? err.message : String(err);
          if (problem !== lastPollProblem) notify(`cannot read the progress of ${turnWorkflowId} (${problem}); still trying`);
          lastPollProblem = problem;
        }
      }
      if (!outcome && !watch.down && waits) {
        const problem = await waits.check(handle, step);
        if (isServerUnavailable(problem)) watch.unreachable();
      }
      // Until the next round (what the turn waits for is checked at the same pace as
      // before): pushed events are handed on as they come.
      const roundAt = performance.now();
      for (;;) {
        try {
          if (await deliverPushed()) {
            queriedAt = -Infinity;
            break;
          }
        } catch (err) {
          if (err instanceof EventHandlerError) throw err.cause;
          throw err;
        }
        if (outcome || options.signal?.aborted) break;
        const left = roundAt + pollMs - performance.now();
        if (left <= 0) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            wake = undefined;
            resolve();
          }, left);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
        });
      }
    }
  } finally {
    unsubscribe();
    options.signal?.removeEventListener('abort', onAbort);
  }
  await finished;
  if (!outcome) throw new Error(`stopped following ${turnWorkflowId}`);
  if (!outcome.ok) throw outcome.error;
  const result = outcome.value;
  // Every event was seen already (pushed): no need to ask the closed turn, which a worker
  // answers by replaying its whole history.
  if (result.lastEventSeq !== undefined && after >= result.lastEventSeq) return result;
  // The events recorded after the last poll: the closed turn is queried (a worker
  // answers from its history), through outages, with a few tries for a worker restart.
  for (let attempt = 1; ; attempt++) {
    try {
      await watch.untilReachable(drain, { signal: options.signal });
      return result;
    } catch (err) {
      if (err instanceof EventHandlerError) throw err.cause;
      if (attempt >= 3 || options.signal?.aborted) throw new TurnProgressUnreadableError(turnWorkflowId, result, err);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

/** Wraps an error thrown by a follow's `onEvent`, so that it is not mistaken for a failed poll. */
class EventHandlerError extends Error {
  override readonly name = 'EventHandlerError';
  constructor(override readonly cause: unknown) {
    super('the event handler failed', { cause });
  }
}

function connectionAddress(client: Client): string {
  const options = (client.connection as { options?: { address?: unknown } }).options;
  return typeof options?.address === 'string' ? options.address : 'the configured address';
}
