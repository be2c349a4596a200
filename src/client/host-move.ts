/**
 * How a host failover is told: one sentence for people ({@link hostMoveText}: the client,
 * `show`) and one additive event for `exec --json` ({@link hostMoveEvent}, type
 * `thread.moved`). A workspace that could not be restored is said loudly, with why.
 */
import { checkpointLabel, type HostMove } from '../activities/failover';

/** The `exec --json` event of a move. */
export interface ThreadMovedEvent {
  type: 'thread.moved';
  from_host: string;
  to_host: string;
  previous_cwd: string;
  cwd: string;
  /** The checkpoint the workspace was restored from (`step` as `T.S`, null when not known), or null. */
  restored_from: { checkpoint_id: string; step: string | null } | null;
  /** Why the workspace was not restored; null when it was. */
  not_restored: string | null;
  /** Why the workspace is not at its original path; null when it is. */
  relocated_because: string | null;
  message: string;
}

/** "host A lost; thread moved to host B, workspace restored from step 3.4" (plus where, and what was not restored). */
export function hostMoveText(move: HostMove): string {
  const where = move.cwd === move.previousCwd ? '' : ` (workspace now at ${move.cwd}: ${move.relocatedBecause ?? 'another path'})`;
  const head = `host ${move.from} lost; thread moved to host ${move.to.id}`;
  if (move.restoredFrom) return `${head}, workspace restored from ${checkpointLabel(move.restoredFrom)}${where}`;
  return `${head}${where}; WARNING: the workspace was NOT restored: ${move.notRestored ?? 'no checkpoint'}`;
}

/** The `thread.moved` event of `exec --json`. */
export function hostMoveEvent(move: HostMove): ThreadMovedEvent {
  return {
    type: 'thread.moved',
    from_host: move.from,
    to_host: move.to.id,
    previous_cwd: move.previousCwd,
    cwd: move.cwd,
    restored_from: move.restoredFrom ? { checkpoint_id: move.restoredFrom.id, step: move.restoredFrom.turn !== null && move.restoredFrom.step !== null ? `${move.restoredFrom.turn}.${move.restoredFrom.step}` : null } : null,
    not_restored: move.notRestored,
    relocated_because: move.relocatedBecause,
    message: hostMoveText(move),
  };
}
