/**
 * The client's side of "a thread lives in one store": a command that adds to a thread
 * (resume) refuses, before sending anything, when the store it is configured with is
 * not the one the thread records (SessionSettings `storeId`). Threads recorded before
 * they named their store are not checked.
 */
import type { SessionSettings } from '../config/settings';
import type { OpenedStore } from '../store';

/** The configured store is not the thread's (exit 2: fix UNROLL_STORE). */
export class ThreadStoreMismatchError extends Error {
  override readonly name = 'ThreadStoreMismatchError';
  constructor(
    readonly threadId: string,
    readonly threadStoreId: string,
    readonly storeId: string,
    message: string,
  ) {
    super(message);
  }
}

/** Throws {@link ThreadStoreMismatchError} when `settings` name another store than `opened` (id `storeId`). */
export function assertThreadInStore(threadId: string, settings: Pick<SessionSettings, 'storeId' | 'storeDescription'>, opened: OpenedStore, storeId: string): void {
  if (settings.storeId === undefined || settings.storeId === storeId) return;
  const theirs = settings.storeDescription ? `${settings.storeDescription} (id ${settings.storeId})` : `id ${settings.storeId}`;
  throw new ThreadStoreMismatchError(
    threadId,
    settings.storeId,
    storeId,
    `thread ${threadId} lives in store ${theirs} but ${opened.source} names ${opened.description} (id ${storeId}); point ${opened.source} at the thread's store`,
  );
}
