/**
 * `unroll fork <thread | bundle> --at <turn>.<step> [--model M] [--instructions F]
 * [--edit-output <callId>=<file>] [--message "..."] [-C DIR] [--force] [--no-files]`:
 * starts a new thread from a step of another one and runs its first turn live, printed
 * like `unroll exec`. A bundle given as the source is imported into the local store
 * first (the worker reads it there).
 *
 * Files: before the fork's turn runs, the workspace as it was after the step is written
 * into the fork's own directory (`-C DIR`, new or empty unless --force; default
 * `<UNROLL_HOME>/workspaces/<fork id>`), which becomes the fork's cwd, so the model's
 * transcript and files agree. A step whose workspace was not captured (a skipped
 * checkpoint) refuses, naming the step and why, unless `--no-files`. A source that
 * recorded no checkpoints at all (older threads, checkpoints off) forks without files,
 * with a notice. `--no-files` forks the transcript only: the fork runs in `-C DIR` or the
 * parent's workspace as they are now.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { missingApiKey } from '../config/config';
import type { ReasoningEffort, SessionSettings } from '../config/settings';
import { buildThreadRun } from '../history/build-run';
import { importObjects } from '../history/bundle';
import { parseStepRef, type StepRef } from '../history/step-ref';
import type { ThreadRun } from '../history/thread-run';
import { NoCheckpointError, workspaceAt, type WorkspaceAt } from '../history/workspace-at';
import type { TranscriptStore } from '../store';
import { DebugContext, DebugUsageError, guarded, withContext, type DebugIo } from './debug-command';
import { checkPromptSize } from './prompt-limit';
import { DEFAULT_FORK_MESSAGE, forkThread, parseEditOutput } from './fork-thread';
import { HumanOutput } from './human-output';
import { emit, exitCodeFor, watchTurn, type EventSink } from './run-turn';
import { resolveThread } from './thread-source';
import { newThreadId } from './threads';
import { assertTargetUsable, clientPlace, forkWorkspaceDir, writeWorkspace } from './workspace-files';

/** Options of `unroll fork`. */
export interface ForkFlags {
  readonly at?: string;
  readonly model?: string;
  readonly instructions?: string;
  readonly editOutput?: string;
  readonly message?: string;
  readonly provider?: string;
  readonly baseUrl?: string;
  readonly apiKeyEnv?: string;
  readonly reasoningEffort?: ReasoningEffort | 'default';
  readonly cd?: string;
  readonly force?: boolean;
  /** False (`--no-files`): fork the transcript only. */
  readonly files?: boolean;
  readonly json?: boolean;
  readonly worker?: boolean;
  readonly temporalAddress?: string;
}

async function readArgumentFile(file: string, option: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new DebugUsageError(`${option}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/** The fork's files: which workspace goes where, or why the fork has none. */
type ForkFiles = { readonly at: WorkspaceAt; readonly dir: string } | { readonly at: null; readonly note: string | null };

/** Decides the fork's files (see the module comment); writes nothing. */
async function planForkFiles(run: ThreadRun, ref: StepRef, flags: ForkFlags, io: DebugIo, home: string, threadId: string): Promise<ForkFiles> {
  if (flags.files === false) return { at: null, note: null };
  let at: WorkspaceAt;
  try {
    at = workspaceAt(run, ref);
  } catch (err) {
    if (!(err instanceof NoCheckpointError)) throw err;
    const where = flags.cd ? path.resolve(io.cwd, flags.cd) : (run.settings?.cwd ?? 'the parent\'s workspace');
    if (err.kind === 'none') return { at: null, note: `${err.message}: the fork runs in ${where} as it is now` };
    throw new DebugUsageError(`${err.message}. Pass --no-files to fork the transcript only (it then runs in ${where} as it is now)`);
  }
  const dir = flags.cd ? path.resolve(io.cwd, flags.cd) : forkWorkspaceDir(home, threadId);
  await assertTargetUsable(dir, flags.force === true);
  return { at, dir };
}

/** Writes the fork's files; returns the settings and checkpoint the fork starts with. */
async function materialise(files: ForkFiles, store: TranscriptStore, checkpointRoot: string, run: ThreadRun): Promise<{ cwd?: string; checkpoint?: string | null; count: number }> {
  if (files.at === null) return { count: 0 };
  const count = await writeWorkspace(clientPlace(store, checkpointRoot, run.threadId), files.at, files.dir);
  return { cwd: files.dir, checkpoint: files.at.checkpoint, count };
}

/** Runs `unroll fork`; the exit code is that of the fork's first turn. */
export function forkCommand(target: string, flags: ForkFlags, io: DebugIo): Promise<number> {
  const providerChanged = Boolean(flags.provider || flags.baseUrl || flags.apiKeyEnv);
  const overrides = {
    ...(flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}),
    ...(flags.provider ? { provider: flags.provider } : {}),
    ...(flags.baseUrl ? { baseUrl: flags.baseUrl } : {}),
    ...(flags.apiKeyEnv ? { envKey: flags.apiKeyEnv } : {}),
  };
  return guarded(io, () =>
    withContext(DebugContext.open(io, overrides, { withWorker: flags.worker !== false }), async (ctx) => {
      if (!flags.at) throw new DebugUsageError('fork needs --at <turn>.<step> (see `unroll show <thread>` for the step numbers)');
      const ref = parseStepRef(flags.at);
      const baseInstructions = flags.instructions ? await readArgumentFile(path.resolve(io.cwd, flags.instructions), '--instructions') : undefined;
      if (baseInstructions !== undefined && baseInstructions.trim() === '') throw new DebugUsageError('--instructions: the file is empty');
      const edit = flags.editOutput ? parseEditOutput(flags.editOutput) : undefined;
      const editOutput = edit ? { callId: edit.callId, text: await readArgumentFile(path.resolve(io.cwd, edit.file), '--edit-output') } : undefined;

      const source = await resolveThread(ctx, target);
      const runtime = await ctx.runtime();
      if (source.kind === 'bundle' && source.bundle) await importObjects(source.bundle, runtime.store.backend);
      const run = await buildThreadRun(source.histories, runtime.store);
      const threadId = newThreadId();
      const files = await planForkFiles(run, ref, flags, io, ctx.config.home, threadId);
      const settings: Partial<SessionSettings> = {
        ...(providerChanged ? { provider: ctx.config.session.provider } : {}),
        ...(flags.reasoningEffort && flags.reasoningEffort !== 'default' ? { reasoningEffort: flags.reasoningEffort === 'none' ? null : flags.reasoningEffort } : {}),
        ...(flags.cd ? { cwd: path.resolve(io.cwd, flags.cd) } : {}),
        // The fork lives in the store it is written to, whatever the parent's was.
        storeId: runtime.storeId,
        storeDescription: runtime.opened.description,
      };
      const provider = settings.provider ?? run.settings?.provider;
      const keyProblem = provider ? missingApiKey(provider, io.env) : null;
      if (keyProblem) throw new DebugUsageError(keyProblem);

      const sink: EventSink = flags.json ? { kind: 'json', out: io.out } : { kind: 'human', view: new HumanOutput({ err: io.err, out: io.out, color: Boolean(io.err.isTTY) && !io.env.NO_COLOR }) };
      const message = flags.message ?? DEFAULT_FORK_MESSAGE;
      checkPromptSize(message, 'message');
      const written = await materialise(files, runtime.store, ctx.config.checkpointRoot, run);
      const started = await forkThread(runtime.client, runtime.store, run, {
        at: flags.at,
        threadId,
        ...(written.checkpoint !== undefined ? { checkpoint: written.checkpoint } : {}),
        taskQueue: ctx.config.temporal.taskQueue,
        ...(ctx.config.session.host ? { host: ctx.config.session.host } : {}),
        message,
        ...(flags.model ? { model: flags.model } : {}),
        ...(baseInstructions !== undefined ? { baseInstructions } : {}),
        ...(editOutput ? { editOutput } : {}),
        settings: { ...settings, ...(written.cwd ? { cwd: written.cwd } : {}) },
        defaults: ctx.config.session,
      });
      if (files.at === null && files.note) io.err.write(`unroll: note: ${files.note}\n`);
      emit(sink, { type: 'thread.started', thread_id: started.threadId });
      if (sink.kind === 'human') {
        const from = `${run.threadId} at ${started.point.turn}.${started.point.step}${editOutput ? ` (output of ${editOutput.callId} edited)` : ''}`;
        const filesLine = files.at ? `${written.count} file(s) as after step ${files.at.step} (checkpoint ${files.at.checkpoint?.slice(0, 12) ?? 'of an empty workspace'})` : 'not restored (transcript only)';
        sink.view.header({ thread: started.threadId, 'forked from': from, model: `${started.settings.model} (${started.settings.provider.name})`, cwd: started.settings.cwd, files: filesLine });
        sink.view.user(message);
      }
      const result = await watchTurn(runtime.client, runtime.store, started.turnWorkflowId, sink);
      if (sink.kind === 'human') io.err.write(`resume with: unroll resume ${started.threadId} "..."\ncompare with: unroll diff ${run.threadId} ${started.threadId}\n`);
      return exitCodeFor(result);
    }),
  );
}
