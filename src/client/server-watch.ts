/**
 * Riding out a Temporal server outage while the client follows a turn. The turn itself
 * is durable (its state is in the server's database and its worker reconnects on its
 * own), so when the server goes away the client waits for it instead of failing: it
 * says once that it is waiting, says again when the server is back, and carries on.
 *
 * An outage is noticed two ways: a call fails with gRPC UNAVAILABLE (the SDK has
 * already retried it for some seconds by then), or a call is slow and a TCP probe of
 * the address finds nothing listening, which tells the user within a couple of seconds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isServerReachable } from '../temporal/dev-server';

/** gRPC status UNAVAILABLE: the server cannot be reached (connection refused, reset, no route). */
const GRPC_UNAVAILABLE = 14;

/** True when `err`, or an error it wraps, is gRPC UNAVAILABLE: the server is unreachable right now. */
export function isServerUnavailable(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth++) {
    if ((current as { code?: unknown }).code === GRPC_UNAVAILABLE) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Options of {@link ServerWatch}. */
export interface ServerWatchOptions {
  /** How long a call may take before the address is probed (ms). */
  readonly slowCallMs?: number;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/**
 * Tracks whether the Temporal server answers, and tells the user (through `notify`)
 * when it stops answering and when it is back: one line each per outage.
 */
export class ServerWatch {
  private lastContact: number;
  private outageSince: number | null = null;
  private readonly now: () => number;
  private readonly slowCallMs: number;

  constructor(
    readonly address: string,
    private readonly notify: (message: string) => void,
    options: ServerWatchOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.slowCallMs = options.slowCallMs ?? 2_000;
    this.lastContact = this.now();
  }

  /** True while an outage is announced and not yet over. */
  get down(): boolean {
    return this.outageSince !== null;
  }

  /** The server answered (with a result or with an error of its own). */
  reached(): void {
    if (this.outageSince !== null) {
      this.notify(`Temporal server at ${this.address} is reachable again after ${seconds(this.now() - this.outageSince)} s; continuing`);
      this.outageSince = null;
    }
    this.lastContact = this.now();
  }

  /** The server cannot be reached; announced once per outage. */
  unreachable(): void {
    if (this.outageSince !== null) return;
    this.outageSince = this.lastContact;
    this.notify(`Temporal server at ${this.address} is unreachable; waiting (${seconds(this.now() - this.lastContact)} s)…`);
  }

  /**
   * Runs one call to the server and records what it says about reachability. A call
   * still running after `slowCallMs` makes the watch probe the address. Rethrows the
   * call's error.
   */
  async call<T>(op: () => Promise<T>): Promise<T> {
    let settled = false;
    const probe = setTimeout(() => {
      void isServerReachable(this.address).then((up) => {
        if (!up && !settled) this.unreachable();
      });
    }, this.slowCallMs);
    try {
      const value = await op();
      this.reached();
      return value;
    } catch (err) {
      if (isServerUnavailable(err)) this.unreachable();
      else this.reached();
      throw err;
    } finally {
      settled = true;
      clearTimeout(probe);
    }
  }

  /**
   * Runs `op` until it does not fail for want of the server, pausing `pauseMs` between
   * tries; other errors are thrown. Gives up (throwing the last error) when `signal` aborts.
   */
  async untilReachable<T>(op: () => Promise<T>, options: { pauseMs?: number; signal?: AbortSignal } = {}): Promise<T> {
    for (;;) {
      try {
        return await this.call(op);
      } catch (err) {
        if (!isServerUnavailable(err) || options.signal?.aborted) throw err;
        await sleep(options.pauseMs ?? 1_000);
      }
    }
  }
}

function seconds(ms: number): number {
  return Math.max(0, Math.round(ms / 1000));
}
