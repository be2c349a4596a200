/** Named errors of the chaos runner; each message says what went wrong and where. */

/** A worker child could not be started (the server stayed down, or the CLI is not built). */
export class WorkerStartError extends Error {
  override readonly name = 'WorkerStartError';
  constructor(readonly taskQueue: string, detail: string) {
    super(`unroll worker for task queue ${taskQueue} did not start: ${detail}`);
  }
}

/** A session did not finish its turns before its deadline. */
export class SessionDeadlineError extends Error {
  override readonly name = 'SessionDeadlineError';
  constructor(readonly session: string, readonly waitingFor: string, deadlineMs: number) {
    super(`session ${session} did not finish within ${Math.round(deadlineMs / 1000)} s (waiting for ${waitingFor})`);
  }
}

/** The chaos command line was misused. */
export class ChaosUsageError extends Error {
  override readonly name = 'ChaosUsageError';
}
