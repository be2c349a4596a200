/**
 * Which store a worker uses, and the check that a thread lives in it. A thread records
 * its store's id in its settings (`SessionSettings.storeId`); a worker pointed at another
 * store (a different `UNROLL_STORE`, or the default file store of another host) would
 * miss every object and retry `ObjectNotFoundError` without end. Instead, every activity
 * whose input carries the thread's settings compares the ids first (two strings: the
 * worker's id is read once at start-up) and, on a mismatch, fails non-retryably with a
 * {@link StoreFailureType.WrongStore} failure naming both stores. Threads without a
 * recorded id (started before ids existed) are not checked.
 */
import { ApplicationFailure } from '@temporalio/common';
import { StoreFailureType } from '../shared/failure-types';

/** The store a worker uses, as checked at start-up. */
export interface StoreIdentity {
  /** The store's id (see OpenedStore.storeId). */
  readonly id: string;
  /** The store spec with its password redacted. */
  readonly description: string;
  /** The worker's host, named in the message. */
  readonly host: string;
  /** The setting the spec came from (`UNROLL_STORE`, or the config file's `store`). */
  readonly source: string;
}

/** What a thread records about its store (SessionSettings `storeId`, `storeDescription`). */
export interface ThreadStore {
  readonly storeId?: string;
  readonly storeDescription?: string;
}

/**
 * The failure for an activity of thread `threadId` (recording `thread`) on
 * a worker using `identity`, or null when the thread lives in the worker's store or
 * records no store.
 */
export function wrongStoreFailure(identity: StoreIdentity, threadId: string | undefined, thread: ThreadStore): ApplicationFailure | null {
  if (thread.storeId === undefined || thread.storeId === identity.id) return null;
  const who = threadId ? `thread ${threadId}` : 'the thread';
  const where = thread.storeDescription ? `store ${thread.storeDescription} (id ${thread.storeId})` : `store id ${thread.storeId}`;
  return ApplicationFailure.create({
    type: StoreFailureType.WrongStore,
    nonRetryable: true,
    message:
      `worker on host ${identity.host} uses store ${identity.description} (id ${identity.id}) but ${who} lives in ${where}; ` +
      `point ${identity.source} at the thread's store (the one \`unroll\` used when the thread started) and restart the worker`,
  });
}

// Activities take one argument (an input object) and return a promise.
type Activity = (input: never) => Promise<unknown>;

/**
 * Wraps every activity of `activities` so that one whose input carries a thread's
 * settings (`{ threadId, settings: { storeId } }`) first checks the thread's store
 * against the worker's (see the module comment).
 */
export function checkingThreadStore<T extends Record<string, Activity>>(activities: T, identity: StoreIdentity): T {
  const wrapped: Record<string, Activity> = {};
  for (const [name, activity] of Object.entries(activities)) {
    const run = activity as (input: unknown) => Promise<unknown>;
    wrapped[name] = async (input: unknown) => {
      const { threadId, thread } = threadStoreOf(input);
      const failure = wrongStoreFailure(identity, threadId, thread);
      if (failure) throw failure;
      return run(input);
    };
  }
  return wrapped as T;
}

function threadStoreOf(input: unknown): { threadId?: string; thread: ThreadStore } {
  const record = input as { threadId?: unknown; settings?: { storeId?: unknown; storeDescription?: unknown } | null } | null | undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { threadId: text(record?.threadId), thread: { storeId: text(record?.settings?.storeId), storeDescription: text(record?.settings?.storeDescription) } };
}
