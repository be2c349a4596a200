import { Context } from '@temporalio/activity';

/**
 * The parts of the Temporal activity context that Unroll's activities use. Outside an
 * activity (unit tests calling the functions directly) it degrades to no-op heartbeats,
 * a never-aborted signal and attempt 1, so the same code runs in both places.
 */
export interface ActivityEnv {
  readonly heartbeat: (details?: unknown) => void;
  readonly signal: AbortSignal;
  readonly attempt: number;
}

export function currentActivityEnv(): ActivityEnv {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    ctx = undefined;
  }
  if (!ctx) {
    return { heartbeat: () => undefined, signal: new AbortController().signal, attempt: 1 };
  }
  const current = ctx;
  return {
    heartbeat: (details) => current.heartbeat(details),
    signal: current.cancellationSignal,
    attempt: current.info.attempt,
  };
}
