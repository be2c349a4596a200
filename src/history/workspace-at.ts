/**
 * Which checkpoint holds a thread's workspace as it was after step `T.S` (what checkout,
 * fork with files, rewind and diff restore or compare). Pure: it reads the thread's
 * record only.
 *
 * Steps in order are `T.0` (the turn's start, after whatever the user changed between
 * turns), then `T.1`, `T.2`, …. The answer is the latest checkpoint recorded `created`
 * or `unchanged` at or before `T.S`: a step without a checkpoint attempt ran no tool that
 * may change files, so the workspace is as the step before left it. Going back past the
 * start of a turn that followed a rewind continues at the rewind (its checkpoint is the
 * workspace that turn started from); going back past the first turn of a fork continues
 * in its source (the checkpoint the fork inherited). A step recorded `skipped` on the
 * way back means the workspace after it was never captured: that is an error naming the
 * step and the recorded reason, as is finding no checkpoint at all.
 */
import { resolveStep, resolveTurn, StepRefError, type StepRef } from './step-ref';
import type { CheckpointView, ThreadRun } from './thread-run';

/** The checkpoint holding the workspace after a step. */
export interface WorkspaceAt {
  /** The step asked for, `<turn>.<step>`. */
  readonly step: string;
  /** The checkpoint id; null: the workspace was empty (nothing to snapshot). */
  readonly checkpoint: string | null;
  /** Where that checkpoint was recorded: a step of this thread, a rewind, or the fork's source. */
  readonly recordedAt: string;
}

/** Why the workspace after a step cannot be restored. */
export class NoCheckpointError extends Error {
  override readonly name = 'NoCheckpointError';
  constructor(
    readonly thread: string,
    /** The step asked for. */
    readonly step: string,
    /** `skipped`: a step on the way had no checkpoint; `running`: one is still being taken; `none`: none was ever recorded. */
    readonly kind: 'skipped' | 'running' | 'none',
    /** The step whose checkpoint is missing (for `none`, the step asked for). */
    readonly missingAt: string,
    readonly reason: string,
  ) {
    super(
      kind === 'none'
        ? `cannot restore the workspace of thread ${thread} after step ${step}: ${reason}`
        : kind === 'running'
          ? `cannot restore the workspace of thread ${thread} after step ${step} yet: the checkpoint of step ${missingAt} is still being taken`
          : `cannot restore the workspace of thread ${thread} after step ${step}: step ${missingAt} has no checkpoint (${reason}), so the files from step ${missingAt} on were not captured`,
    );
  }
}

interface Slot {
  readonly label: string;
  readonly view: CheckpointView | null;
}

/** The thread's steps in order, as (label, checkpoint) slots, turn starts included. */
function turnSlots(run: ThreadRun, turnIndex: number): Slot[] {
  const turn = run.turns[turnIndex];
  return [{ label: `${turn.turn}.0`, view: turn.startCheckpoint }, ...turn.steps.map((s) => ({ label: s.id, view: s.checkpoint }))];
}

/**
 * Finds the checkpoint holding the workspace after step `ref` (see the module comment).
 * Throws {@link StepRefError} for a step the thread does not have, and
 * {@link NoCheckpointError} when that workspace cannot be restored.
 */
export function workspaceAt(run: ThreadRun, ref: StepRef): WorkspaceAt {
  const turn = resolveTurn(run, ref);
  if (ref.step !== 0) resolveStep(run, ref);
  const step = `${turn.turn}.${ref.step}`;
  let turnIndex = run.turns.indexOf(turn);
  // Slots of the target turn up to the step, newest first; then earlier turns.
  let slots = turnSlots(run, turnIndex).slice(0, ref.step + 1).reverse();
  for (;;) {
    for (const { label, view } of slots) {
      if (view === null) continue;
      if (view.status === 'created' || view.status === 'unchanged') return { step, checkpoint: view.id, recordedAt: label };
      if (view.status === 'running') throw new NoCheckpointError(run.threadId, step, 'running', label, 'in progress');
      throw new NoCheckpointError(run.threadId, step, 'skipped', label, view.reason ?? 'no reason recorded');
    }
    const startedTurn = run.turns[turnIndex].turn;
    const rewind = [...run.rewinds].reverse().find((r) => r.beforeTurn === startedTurn);
    if (rewind) return { step, checkpoint: rewind.checkpoint, recordedAt: `the rewind to ${rewind.to}` };
    turnIndex -= 1;
    if (turnIndex < 0) break;
    slots = turnSlots(run, turnIndex).reverse();
  }
  if (run.inheritedCheckpoint !== undefined && run.origin) {
    return { step, checkpoint: run.inheritedCheckpoint, recordedAt: `${run.origin.threadId} at ${run.origin.turn}.${run.origin.step}` };
  }
  const why = run.settings?.checkpoints?.enabled === false ? 'checkpoints are turned off for this thread' : 'the thread recorded no workspace checkpoint at or before it (it ran before Unroll took checkpoints, or with them off)';
  throw new NoCheckpointError(run.threadId, step, 'none', step, why);
}

export { StepRefError };
