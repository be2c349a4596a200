/**
 * What a workflow said when it turned a client's request down. The SDK reports every
 * failed update as "Workflow Update failed"; the reason (the validator's message, e.g.
 * `call "x" is not waiting for approval (waiting: call_1)`, or the handler's error) is
 * in its cause. These errors carry that reason in their message.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';

/**
 * A thread turned a request down (an approval for a call that does not wait, input over
 * the limit…). Still a {@link WorkflowUpdateFailedError} with the workflow's failure as
 * its `cause`, for callers that handle those; only the message says more.
 */
export class RequestRefusedError extends WorkflowUpdateFailedError {
  override readonly name = 'RequestRefusedError';
  constructor(
    readonly threadId: string,
    readonly request: string,
    readonly reason: string,
    cause: Error | undefined,
  ) {
    super(`thread ${threadId} refused the ${request}: ${reason}`, cause);
  }
}

/**
 * A request the thread accepted failed while it was carried out (a manual compaction the
 * provider refused, say): not the user's input at fault, so not a usage error.
 */
export class RequestFailedError extends WorkflowUpdateFailedError {
  override readonly name = 'RequestFailedError';
  constructor(
    readonly threadId: string,
    readonly request: string,
    readonly reason: string,
    cause: Error | undefined,
  ) {
    super(`the ${request} of thread ${threadId} failed: ${reason}`, cause);
  }
}

/** The reason inside a failed update: its cause's message (the workflow's own words). */
export function updateFailureReason(err: WorkflowUpdateFailedError): string {
  const cause = err.cause as { message?: unknown } | undefined;
  return typeof cause?.message === 'string' && cause.message !== '' ? cause.message : err.message;
}

/**
 * Runs an update call; a failed update becomes {@link RequestRefusedError} (or, with
 * `kind: 'failed'`, {@link RequestFailedError}) with the workflow's reason.
 */
export async function refusalExplained<T>(threadId: string, request: string, call: () => Promise<T>, kind: 'refused' | 'failed' = 'refused'): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError) || err instanceof RequestRefusedError || err instanceof RequestFailedError) throw err;
    const reason = updateFailureReason(err);
    throw kind === 'refused' ? new RequestRefusedError(threadId, request, reason, err.cause) : new RequestFailedError(threadId, request, reason, err.cause);
  }
}
