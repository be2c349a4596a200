/**
 * The activity that ends a turn's exec sessions (src/tools/unified-exec): sessions are
 * held by the worker process of the thread's pinned host, so it runs on that host's
 * queue. The turn workflow calls it when the turn ends, however it ends (completed,
 * failed, interrupted), so a dev server the model left running does not outlive the turn.
 * Ending sessions that are already gone is a no-op; the activity never fails for them.
 */
import { hostExecSessions } from '../tools/unified-exec';

/** Input of {@link createExecSessionActivities}' `endExecSessions`. */
export interface EndExecSessionsInput {
  readonly threadId: string;
  /** Sessions started in this turn or earlier are ended. */
  readonly turn: number;
}

/** Creates `endExecSessions`. */
export function createExecSessionActivities() {
  return {
    /** Kills the thread's sessions of `turn` and earlier on this host; returns their ids. */
    endExecSessions(input: EndExecSessionsInput): Promise<{ ended: number[] }> {
      return Promise.resolve({ ended: hostExecSessions().endThreadSessions(input.threadId, input.turn) });
    },
  };
}
