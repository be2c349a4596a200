/**
 * How the transcript store's errors reach Temporal, for every activity that touches the
 * store. Two kinds, as for the model's errors:
 *
 * - An object that is corrupt or missing cannot be repaired by retrying, but one bad
 *   read is not proof (a restore in progress, a shared filesystem catching up), so it is
 *   retried a few times ({@link UNREADABLE_OBJECT_ATTEMPTS}) and then thrown as a
 *   non-retryable {@link StoreFailureType.ObjectUnreadable} failure whose message names
 *   the object, what it is and the thread. Without this, the step retried forever and
 *   the user saw nothing.
 * - A read or write the filesystem refused (full disk, I/O error, read-only mount, too
 *   many open files) is transient: it is thrown as a retryable
 *   {@link StoreFailureType.Transient} failure ("store write failed: no space left on
 *   device; retrying …"), so Temporal retries it with backoff and whoever watches the
 *   activity's last failure can say why the turn is waiting.
 *
 * Any other error passes through unchanged.
 */
import { ApplicationFailure } from '@temporalio/common';
import { StoreFailureType } from '../shared/failure-types';
import { CorruptObjectError, ObjectNotFoundError, StoreIoError } from '../store/errors';
import { currentActivityEnv } from './activity-context';

/** Attempts after which a corrupt or missing object is taken as final. */
export const UNREADABLE_OBJECT_ATTEMPTS = 3;

/** What {@link classifyStoreError} needs besides the error. */
export interface StoreErrorContext {
  /** The thread the activity works for, when its input says (named in messages). */
  readonly threadId?: string;
  /** The activity's attempt number, from 1. */
  readonly attempt: number;
}

/**
 * The failure Temporal should see for a store error (see the module comment), or
 * undefined when `err` is not one.
 */
export function classifyStoreError(err: unknown, ctx: StoreErrorContext): ApplicationFailure | undefined {
  if (err instanceof CorruptObjectError || err instanceof ObjectNotFoundError) {
    const thread = ctx.threadId ? ` of thread ${ctx.threadId}` : '';
    const problem = err instanceof CorruptObjectError ? `is corrupt: ${err.detail}` : 'is missing from the transcript store';
    const subject = `${err.what} ${err.hash}${thread} ${problem}`;
    if (ctx.attempt >= UNREADABLE_OBJECT_ATTEMPTS) {
      return ApplicationFailure.create({
        type: StoreFailureType.ObjectUnreadable,
        nonRetryable: true,
        message: `${subject} (still so after ${ctx.attempt} attempts: retrying cannot repair it)`,
        cause: err,
      });
    }
    return ApplicationFailure.create({
      type: StoreFailureType.Transient,
      nonRetryable: false,
      message: `${subject}; retrying (attempt ${ctx.attempt} of ${UNREADABLE_OBJECT_ATTEMPTS})`,
      cause: err,
    });
  }
  if (err instanceof StoreIoError) {
    return ApplicationFailure.create({
      type: StoreFailureType.Transient,
      nonRetryable: false,
      message: `${err.summary}; retrying (${err.code} at ${err.path})`,
      cause: err,
    });
  }
  return undefined;
}

// Activities take one argument (an input object) and return a promise.
type Activity = (input: never) => Promise<unknown>;

/**
 * Wraps every activity of a group so that store errors leave it classified (see
 * {@link classifyStoreError}); the thread is taken from the input's `threadId`.
 */
export function classifyingStoreErrors<T extends Record<string, Activity>>(activities: T): T {
  const wrapped: Record<string, Activity> = {};
  for (const [name, activity] of Object.entries(activities)) {
    const run = activity as (input: unknown) => Promise<unknown>;
    wrapped[name] = async (input: unknown) => {
      try {
        return await run(input);
      } catch (err) {
        throw classifyStoreError(err, { threadId: threadIdOf(input), attempt: currentActivityEnv().attempt }) ?? err;
      }
    };
  }
  return wrapped as T;
}

function threadIdOf(input: unknown): string | undefined {
  const threadId = (input as { threadId?: unknown } | null | undefined)?.threadId;
  return typeof threadId === 'string' ? threadId : undefined;
}
