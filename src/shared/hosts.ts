/**
 * Hosts and workspace pinning (the worker-specific task queue pattern of
 * temporalio/samples-typescript). Every worker has a host id and polls, besides the
 * shared task queue, a task queue of its own host. A thread is pinned to the host it
 * started on: every activity that touches its workspace runs on that host's queue, while
 * model inference and compaction run on the shared queue, on any worker. Pure; safe in
 * workflow code.
 */

/** Host ids: safe in task queue names, identities and messages; at most 253 characters (a fully qualified hostname fits). */
export const HOST_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** The host a thread is pinned to, as recorded in its settings. */
export interface HostPin {
  /** The host id of the worker (or CLI) that started the thread. */
  readonly id: string;
  /** That host's own task queue ({@link hostTaskQueue}). */
  readonly taskQueue: string;
}

/** Separates the shared queue's name from the host id in a host queue's name. */
const HOST_QUEUE_MARK = '@host:';

/** The task queue of host `hostId` next to the shared queue `taskQueue`: `<taskQueue>@host:<hostId>`. */
export function hostTaskQueue(taskQueue: string, hostId: string): string {
  return `${taskQueue}${HOST_QUEUE_MARK}${hostId}`;
}

/** The pin of a thread started on host `hostId` with the shared queue `taskQueue`. */
export function hostPin(taskQueue: string, hostId: string): HostPin {
  return { id: hostId, taskQueue: hostTaskQueue(taskQueue, hostId) };
}

/** The shared queue and host id a host queue's name is made of; null for any other queue. */
export function parseHostTaskQueue(name: string): { readonly taskQueue: string; readonly hostId: string } | null {
  const at = name.lastIndexOf(HOST_QUEUE_MARK);
  if (at <= 0) return null;
  const hostId = name.slice(at + HOST_QUEUE_MARK.length);
  return HOST_ID.test(hostId) ? { taskQueue: name.slice(0, at), hostId } : null;
}

/** Why `id` is not a usable host id, or null when it is. */
export function hostIdProblem(id: string): string | null {
  if (HOST_ID.test(id)) return null;
  return `"${id}" is not a valid host id: use 1-253 letters, digits, '.', '_' or '-', starting with a letter or digit`;
}

/**
 * The queue where a thread's workspace activities (tools, AGENTS.md and environment
 * reading) run: its pinned host's queue; for a thread recorded before pins existed, the
 * `toolTaskQueue` it recorded.
 */
export function workspaceTaskQueue(settings: { readonly host?: HostPin; readonly toolTaskQueue: string }): string {
  return settings.host?.taskQueue ?? settings.toolTaskQueue;
}
