/**
 * What a workflow said when it turned a client's request down. The SDK reports every
 * failed update as "Workflow Update failed"; the reason (the validator's message, e.g.
 * `call "x" is not waiting for approval (waiting: call_1)`, or the handler's error) is
 * in its cause. These errors carry that reason in their message.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';

/** A thread turned a request down (an approval for a call that does not wait, input over the limit…). */
export class RequestRefusedError extends Error {
  override readonly name = 'RequestRefusedError';
  constructor(
    readonly threadId: string,
    readonly request: string,
    readonly reason: string,
  ) {
    super(`thread ${threadId} refused the ${request}: ${reason}`);
  }
}

/** The reason inside a failed update: its cause's message (the workflow's own words). */
export function updateFailureReason(err: WorkflowUpdateFailedError): string {
  const cause = err.cause as { message?: unknown } | undefined;
  return typeof cause?.message === 'string' && cause.message !== '' ? cause.message : err.message;
}

/** Runs an update call; a failed update becomes {@link RequestRefusedError} with the workflow's reason. */
export async function refusalExplained<T>(threadId: string, request: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new RequestRefusedError(threadId, request, updateFailureReason(err));
    throw err;
  }
}
