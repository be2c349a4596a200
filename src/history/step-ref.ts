/**
 * Naming a step: `<turn>.<step>` (both 1-based, `2.3` is the third model request of the
 * second turn). `<turn>.0` names the start of a turn, before its first request. A bare
 * number is accepted only where it cannot be ambiguous: a thread with a single turn.
 */
import type { StepRun, ThreadRun, TurnRun } from './thread-run';

/** A parsed step reference. */
export interface StepRef {
  readonly turn: number | null;
  readonly step: number;
}

/** A step reference that does not parse or does not name a step of the thread. */
export class StepRefError extends Error {
  override readonly name = 'StepRefError';
}

/** Parses `T.S` or `S`; throws {@link StepRefError}. */
export function parseStepRef(text: string): StepRef {
  const match = /^\s*(?:(\d+)\.)?(\d+)\s*$/.exec(text);
  if (!match) throw new StepRefError(`"${text}" is not a step: use <turn>.<step>, e.g. 2.3 (see \`unroll show\`)`);
  const turn = match[1] === undefined ? null : Number(match[1]);
  const step = Number(match[2]);
  if (turn === 0) throw new StepRefError(`"${text}": turns are numbered from 1`);
  return { turn, step };
}

/** The turn a reference names; a bare step needs a single-turn thread. */
export function resolveTurn(run: ThreadRun, ref: StepRef): TurnRun {
  if (ref.turn === null) {
    if (run.turns.length !== 1) throw new StepRefError(`thread ${run.threadId} has ${run.turns.length} turns: name the step as <turn>.${ref.step}`);
    return run.turns[0];
  }
  const turn = run.turns.find((t) => t.turn === ref.turn);
  if (!turn) throw new StepRefError(`thread ${run.threadId} has no turn ${ref.turn} (it has ${run.turns.length})`);
  return turn;
}

/** The step a reference names (step 0 is not a step: use {@link resolveTurn}). */
export function resolveStep(run: ThreadRun, ref: StepRef): StepRun {
  const turn = resolveTurn(run, ref);
  const step = turn.steps.find((s) => s.step === ref.step);
  if (!step) throw new StepRefError(`turn ${turn.turn} of thread ${run.threadId} has no step ${ref.step} (steps ${turn.steps.length > 0 ? `1-${turn.steps.length}` : 'none'})`);
  return step;
}
