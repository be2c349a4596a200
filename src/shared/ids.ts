/**
 * Identifier formats and names used by the client, the worker and the workflows alike.
 * Pure; safe in workflow code.
 */

/** The default task queue for workflows, inference and (on a single host) tools. */
export const DEFAULT_TASK_QUEUE = 'unroll';

/** Workflow id of a thread's SessionWorkflow: the thread id itself. */
export function sessionWorkflowId(threadId: string): string {
  return threadId;
}

/** Workflow id of turn `n` (1-based) of a thread. */
export function turnWorkflowId(threadId: string, turn: number): string {
  return `${threadId}/turn-${turn}`;
}

/** Thread ids are safe in paths, workflow ids and cache keys. */
export const THREAD_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
