/**
 * `unroll show <thread | bundle> [--turn N] [--step T.S [--diff]] [--json]`: a past (or
 * running) thread as a numbered step list, or one step in full with the exact request
 * input that was sent, rebuilt from the store with the same function the inference
 * activity uses, and the files the step changed (every one, from the checkpoint in the
 * store; `--diff` adds the unified diff against the previous checkpoint).
 */
import { requestBody } from '../activities/inference';
import { buildRequestInput } from '../activities/model-client';
import { buildThreadRun } from '../history/build-run';
import { parseStepRef, resolveStep, resolveTurn, StepRefError } from '../history/step-ref';
import type { StepRun, ThreadRun } from '../history/thread-run';
import type { TranscriptStore } from '../store/transcript-store';
import { DebugContext, guarded, painterFor, positiveInt, withContext, type DebugIo } from './debug-command';
import { renderStepDetail, renderThread } from './show-render';
import { stepFiles, stepFilesLines, type StepFiles } from './step-files';
import { resolveThread } from './thread-source';
import { DebugUsageError } from './debug-command';
import { clientPlace } from './workspace-files';

/** Options of `unroll show`. */
export interface ShowFlags {
  readonly turn?: string;
  readonly step?: string;
  readonly diff?: boolean;
  readonly json?: boolean;
  readonly temporalAddress?: string;
}

/** The request body of a step as it was sent: settings-derived fields plus the rebuilt input. */
export type ExactRequest = Record<string, unknown> & { input: Record<string, unknown>[] };

/** The `--step --json` document. */
export interface StepDetail {
  readonly thread: Pick<ThreadRun, 'threadId' | 'status' | 'origin' | 'settings'>;
  readonly step: StepRun;
  readonly request: ExactRequest;
  /** The files the step changed (null: it took no checkpoint). */
  readonly files: StepFiles | null;
}

/**
 * Rebuilds the request of a step: the transcript at the step's input head plus its
 * appended items, normalised exactly as the inference activity does, with the body
 * fields derived from the settings that step ran with (model, instructions, tools, …).
 */
export async function exactRequest(run: ThreadRun, step: StepRun, store: TranscriptStore): Promise<ExactRequest> {
  const settings = step.request.settings ?? run.settings;
  if (!settings) throw new StepRefError(`thread ${run.threadId} has no recorded settings: its session history is missing`);
  const input = await buildRequestInput(store, step.request.head, step.request.append);
  return { ...requestBody(run.threadId, settings), input };
}

/** One step in full, for `--step`. */
export async function stepDetail(run: ThreadRun, stepText: string, turn: number | undefined, store: TranscriptStore): Promise<StepDetail> {
  const ref = parseStepRef(stepText);
  const step = resolveStep(run, ref.turn === null && turn !== undefined ? { turn, step: ref.step } : ref);
  const { threadId, status, origin, settings } = run;
  return { thread: { threadId, status, origin, settings }, step, request: await exactRequest(run, step, store), files: null };
}

/** Runs `unroll show`; resolves with the exit code. */
export function showCommand(target: string, flags: ShowFlags, io: DebugIo): Promise<number> {
  return guarded(io, () =>
    withContext(DebugContext.open(io, flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}), async (ctx) => {
      const turn = positiveInt(flags.turn, '--turn');
      const source = await resolveThread(ctx, target);
      const run = await buildThreadRun(source.histories, source.store);
      const paint = painterFor(io.out, io.env);
      if (flags.diff && flags.step === undefined) throw new DebugUsageError('--diff needs --step <turn>.<step>: the diff is of one step\'s files');
      if (flags.step !== undefined) {
        const base = await stepDetail(run, flags.step, turn, source.store);
        const files = await stepFiles(base.step.checkpoint, clientPlace(source.store, ctx.config.checkpointRoot, run.threadId), flags.diff === true);
        const detail = { ...base, files };
        const text = [...renderStepDetail(run, detail.step, detail.request, paint), '', ...stepFilesLines(detail.step, files, paint)];
        io.out.write(flags.json ? `${JSON.stringify(detail, null, 2)}\n` : `${text.join('\n')}\n`);
        return 0;
      }
      if (turn !== undefined) resolveTurn(run, { turn, step: 0 });
      if (flags.json) {
        const shown = turn === undefined ? run : { ...run, turns: run.turns.filter((t) => t.turn === turn) };
        io.out.write(`${JSON.stringify(shown, null, 2)}\n`);
        return 0;
      }
      const lines = renderThread(run, paint, turn);
      if (source.kind !== 'server') lines.unshift(paint('2', `(from ${source.kind === 'bundle' ? 'bundle' : 'imported bundle'} ${source.location})`));
      io.out.write(`${lines.join('\n')}\n`);
      return 0;
    }),
  );
}
