/**
 * Host failover as the record tells it (src/workflows/workspace.ts runs it): a workspace
 * activity that no worker of the pinned host started within `failoverAfter` times out
 * (schedule-to-start), `checkHostLiveness` asks whether the host is gone, and if so
 * `adoptThread` moves the thread to a live worker, restoring its latest checkpoint there.
 * {@link HostMoveTracker} reads those activities, in history order, into one
 * {@link HostMoveView} per move, placed at the step during which it happened.
 */
import type { AdoptThreadInput, HostLiveness, HostLivenessInput, HostMove } from '../activities/failover';
import type { ActivityRecord } from './history-events';

/** One host failover of a thread, as `show` lists it (and `show --json` prints it). */
export interface HostMoveView {
  /** The step during whose work it happened: its tool calls, checkpoint or a compaction after them; 0 for the turn's start (and for a move between turns). */
  readonly step: number;
  /** The lost host's id. */
  readonly from: string;
  /** The workspace activity that found no worker on the lost host (its summary or name), null when the history lacks it. */
  readonly waitedFor: string | null;
  /** How long that activity waited before the host was judged lost: from its (first) scheduling to its (last) schedule-to-start timeout; a heartbeat timeout of a run cut short, and rounds on a busy host, included. */
  readonly lostAfterMs: number | null;
  /** Liveness checks made before the move: each found the host busy, save the last one. */
  readonly livenessChecks: number;
  /** When the lost host's workers last polled, as its last liveness check saw it (ISO), if known. */
  readonly lastSeen: string | null;
  /** `moved`, `running` (the adoption is under way) or `failed` (the adoption failed: see `failure`). */
  readonly status: 'moved' | 'running' | 'failed';
  /** The move as the adopting worker reported it (null unless `moved`). */
  readonly move: HostMove | null;
  /** How long the adoption took: picking the path and restoring the checkpoint. */
  readonly adoptionMs: number | null;
  /** When the adoption ended (ISO), if it has. */
  readonly movedAt: string | null;
  readonly failure: string | null;
}

/**
 * Collects the moves of one workflow's activities. Feed it every activity record in
 * history order with the step the workflow is at; it keeps the liveness checks and
 * adoptions for itself (`observe` returns true for those).
 */
export class HostMoveTracker {
  private readonly found: HostMoveView[] = [];
  /** The first and the latest schedule-to-start timeout since the last move (several when the host was found busy). */
  private firstTimedOut: ActivityRecord | null = null;
  private lastTimedOut: ActivityRecord | null = null;
  private checks: ActivityRecord[] = [];

  /** Takes note of `record`; true when it is a failover activity (not to be shown as any other). */
  observe(record: ActivityRecord, step: number): boolean {
    if (record.name === 'checkHostLiveness') {
      this.checks.push(record);
      return true;
    }
    if (record.name === 'adoptThread') {
      this.found.push(this.moveOf(record, step));
      this.reset();
      return true;
    }
    if (record.outcome === 'timed-out' && /schedule.?to.?start/i.test(record.failure ?? '')) {
      this.firstTimedOut ??= record;
      this.lastTimedOut = record;
    } else if (this.lastTimedOut && record.outcome === 'completed' && record.name === this.lastTimedOut.name && record.summary === this.lastTimedOut.summary) {
      // The busy host ran it in the end: no move, and the next one starts afresh.
      this.reset();
    }
    return false;
  }

  private reset(): void {
    this.firstTimedOut = null;
    this.lastTimedOut = null;
    this.checks = [];
  }

  /** The moves seen so far, in order. */
  moves(): HostMoveView[] {
    return [...this.found];
  }

  private moveOf(adoption: ActivityRecord, step: number): HostMoveView {
    const input = adoption.input as AdoptThreadInput;
    const lastCheck = this.checks[this.checks.length - 1];
    const verdict = lastCheck?.outcome === 'completed' ? (lastCheck.result as HostLiveness) : null;
    const [first, waited] = [this.firstTimedOut, this.lastTimedOut];
    const elapsed = (r: ActivityRecord | null) => (r && r.closedAt !== null && r.scheduledAt !== null ? r.closedAt - r.scheduledAt : null);
    const move = adoption.outcome === 'completed' ? (adoption.result as HostMove) : null;
    return {
      step,
      from: move?.from ?? input.settings.host?.id ?? (lastCheck ? (lastCheck.input as HostLivenessInput).host.id : '?'),
      waitedFor: waited ? (waited.summary ?? waited.name) : null,
      lostAfterMs: first?.scheduledAt != null && waited?.closedAt != null ? waited.closedAt - first.scheduledAt : null,
      livenessChecks: this.checks.length,
      lastSeen: verdict?.lastSeen ?? null,
      status: move ? 'moved' : adoption.outcome === 'scheduled' ? 'running' : 'failed',
      move,
      adoptionMs: elapsed(adoption),
      movedAt: adoption.closedAt === null ? null : new Date(adoption.closedAt).toISOString(),
      failure: adoption.failure,
    };
  }
}
