/**
 * `unroll rewind <thread> --to T.S`: sets a live thread back to a step. Its workspace is
 * reset to the checkpoint holding the files as they were after T.S (on the thread's
 * pinned host, by the session workflow's `rewind` update: files created later are
 * removed, ignored files stay), and its next turn starts from T.S's transcript point,
 * the one a fork at T.S would start from. The later turns stay in the record; `show`
 * marks the rewind. Refused while a turn runs.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { buildRequestInput } from '../activities/model-client';
import { buildThreadRun } from '../history/build-run';
import { forkPoint } from '../history/fork-point';
import { parseStepRef } from '../history/step-ref';
import { NoCheckpointError, workspaceAt } from '../history/workspace-at';
import { estimateTokens } from '../prompt/compaction';
import { sessionWorkflowId, THREAD_ID } from '../shared/ids';
import type { TranscriptStore } from '../store';
import { rewindUpdate, type RewindResult } from '../workflows/definitions';
import { DebugContext, DebugUsageError, guarded, withContext, type DebugIo } from './debug-command';
import { RequestFailedError, RequestRefusedError, updateFailureReason } from './request-errors';
import { assertCanWriteTo } from './thread-encryption';
import type { ThreadHistories } from '../history/thread-histories';
import { resolveThread } from './thread-source';
import { InvalidThreadIdError, ThreadNotFoundError } from './threads';

/** Options of `unroll rewind`. */
export interface RewindFlags {
  readonly to?: string;
  readonly json?: boolean;
  readonly worker?: boolean;
  readonly temporalAddress?: string;
}

/**
 * Rewinds `threadId` to step `to` (see the module comment), from its decoded histories.
 * Throws NoCheckpointError when the step's files cannot be restored,
 * RequestRefusedError when the thread refuses (a turn runs), RequestFailedError when the
 * reset failed on the host.
 */
export async function rewindThread(client: Client, store: TranscriptStore, histories: ThreadHistories, to: string): Promise<RewindResult> {
  const ref = parseStepRef(to);
  const run = await buildThreadRun(histories, store);
  const at = workspaceAt(run, ref);
  if (at.checkpoint === null) {
    throw new NoCheckpointError(run.threadId, at.step, 'none', at.step, 'the workspace was empty then (nothing was snapshotted); empty it by hand if that is what you want');
  }
  const point = await forkPoint(run, ref, store);
  const contextTokens = point.head === null ? 0 : estimateTokens(await buildRequestInput(store, point.head, []));
  const args = { to: `${point.turn}.${point.step}`, checkpoint: at.checkpoint, head: point.head, context: point.context, contextTokens };
  try {
    return await client.workflow.getHandle(sessionWorkflowId(run.threadId)).executeUpdate(rewindUpdate, { args: [args] });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ThreadNotFoundError(run.threadId);
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    const reason = updateFailureReason(err);
    const failed = (err.cause as { type?: unknown } | undefined)?.type === 'RewindFailed';
    throw failed ? new RequestFailedError(run.threadId, 'rewind', reason, err.cause) : new RequestRefusedError(run.threadId, 'rewind', reason, err.cause);
  }
}

/** Runs `unroll rewind`; resolves with the exit code. */
export function rewindCommand(threadId: string, flags: RewindFlags, io: DebugIo): Promise<number> {
  return guarded(io, () =>
    withContext(DebugContext.open(io, flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}, { withWorker: flags.worker !== false }), async (ctx) => {
      if (!flags.to) throw new DebugUsageError('rewind needs --to <turn>.<step> (see `unroll show <thread>` for the step numbers)');
      parseStepRef(flags.to);
      if (!THREAD_ID.test(threadId)) throw new InvalidThreadIdError(threadId);
      const runtime = await ctx.runtime();
      await assertCanWriteTo(runtime.client, threadId);
      const source = await resolveThread(ctx, threadId);
      if (source.kind !== 'server') throw new DebugUsageError(`thread ${threadId} is an imported record (${source.location}), not a live thread: fork it to continue it`);
      const done = await rewindThread(runtime.client, runtime.store, source.histories, flags.to);
      if (flags.json) io.out.write(`${JSON.stringify({ type: 'thread.rewound', thread_id: threadId, ...done })}\n`);
      else io.err.write(`rewound thread ${threadId} to step ${done.to}: workspace reset to checkpoint ${done.checkpoint.slice(0, 12)} (${done.files} file(s)); turn ${done.nextTurn} starts from there\nresume with: unroll resume ${threadId} "..."\n`);
      return 0;
    }),
  );
}
