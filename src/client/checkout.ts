/**
 * `unroll checkout <thread | bundle> --at T.S -C DIR [--force]`: writes the workspace as
 * it was after step T.S into DIR, from the checkpoints in the thread's store (any host
 * that reaches it) or in a bundle file (offline). DIR must be new or empty; `--force`
 * writes into a non-empty DIR, overwriting files of the same name and leaving the others.
 */
import * as path from 'node:path';
import { buildThreadRun } from '../history/build-run';
import { parseStepRef } from '../history/step-ref';
import { workspaceAt } from '../history/workspace-at';
import { DebugContext, DebugUsageError, guarded, withContext, type DebugIo } from './debug-command';
import { resolveThread } from './thread-source';
import { assertTargetUsable, clientPlace, writeWorkspace } from './workspace-files';

/** Options of `unroll checkout`. */
export interface CheckoutFlags {
  readonly at?: string;
  readonly cd?: string;
  readonly force?: boolean;
  readonly json?: boolean;
  readonly temporalAddress?: string;
}

/** Runs `unroll checkout`; resolves with the exit code. */
export function checkoutCommand(target: string, flags: CheckoutFlags, io: DebugIo): Promise<number> {
  return guarded(io, () =>
    withContext(DebugContext.open(io, flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}), async (ctx) => {
      if (!flags.at) throw new DebugUsageError('checkout needs --at <turn>.<step> (see `unroll show <thread>` for the step numbers)');
      if (!flags.cd) throw new DebugUsageError('checkout needs -C <dir>: the directory to write the workspace into');
      const ref = parseStepRef(flags.at);
      const dir = path.resolve(io.cwd, flags.cd);
      await assertTargetUsable(dir, flags.force === true);
      const source = await resolveThread(ctx, target);
      const run = await buildThreadRun(source.histories, source.store);
      const at = workspaceAt(run, ref);
      const files = await writeWorkspace(clientPlace(source.store, ctx.config.checkpointRoot, run.threadId), at, dir);
      if (flags.json) {
        io.out.write(`${JSON.stringify({ thread: run.threadId, step: at.step, checkpoint: at.checkpoint, recordedAt: at.recordedAt, directory: dir, files })}\n`);
      } else {
        const from = at.checkpoint === null ? 'an empty workspace' : `checkpoint ${at.checkpoint.slice(0, 12)}, recorded at ${at.recordedAt}`;
        io.err.write(`checked out thread ${run.threadId} after step ${at.step} (${from}): ${files} file(s) into ${dir}\n`);
      }
      return 0;
    }),
  );
}
