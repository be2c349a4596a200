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

/**
 * How long an activity runs before its first heartbeat goes out. Most of an agent's
 * activities (an inference against a fast server, `cat`, a store write) finish within
 * it, and a heartbeat sent at their start is a server round trip and a write of the
 * workflow's state per activity that tells nobody anything: the heartbeat timeout runs
 * from the activity's start either way. A longer activity sends its latest details when
 * the window ends, then at most every second (the worker's throttle), as before, so an
 * interrupt still reaches a running command within about a second.
 */
export const FIRST_HEARTBEAT_AFTER_MS = 200;

/**
 * Holds back the heartbeats of the first `windowMs` of an activity: the latest details
 * given meanwhile go out when the window ends, unless the activity has finished (a
 * heartbeat after completion is dropped by the worker) or was cancelled. After the
 * window every heartbeat goes straight through.
 */
export class HeartbeatGate {
  private readonly openAt: number;
  private open = false;
  private held: { details: unknown } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (details: unknown) => void,
    windowMs: number,
    private readonly cancelled: () => boolean = () => false,
  ) {
    this.openAt = performance.now() + windowMs;
  }

  heartbeat(details: unknown): void {
    if (this.open || performance.now() >= this.openAt) {
      this.open = true;
      if (this.timer) clearTimeout(this.timer);
      this.send(details);
      return;
    }
    this.held = { details };
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.open = true;
      if (this.held && !this.cancelled()) this.send(this.held.details);
    }, Math.max(0, this.openAt - performance.now()));
    // A gate must never keep a process alive.
    this.timer.unref();
  }
}

/** The gate of each running activity, made with its first {@link currentActivityEnv}. */
const gates = new WeakMap<Context, HeartbeatGate>();

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
  // Activities ask for their env as they start: the window counts from here. A short
  // heartbeat timeout (tests use 2 s) shortens the window to a quarter of it.
  let gate = gates.get(current);
  if (!gate) {
    const timeout = current.info.heartbeatTimeoutMs;
    gate = new HeartbeatGate((details) => current.heartbeat(details), timeout ? Math.min(FIRST_HEARTBEAT_AFTER_MS, timeout / 4) : FIRST_HEARTBEAT_AFTER_MS, () => current.cancellationSignal.aborted);
    gates.set(current, gate);
  }
  const opened = gate;
  return {
    heartbeat: (details) => opened.heartbeat(details),
    signal: current.cancellationSignal,
    attempt: current.info.attempt,
  };
}
