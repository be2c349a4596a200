/**
 * `unroll fork <thread | bundle> --at <turn>.<step> [--model M] [--instructions F]
 * [--edit-output <callId>=<file>] [--message "..."]`: starts a new thread from a step of
 * another one and runs its first turn live, printed like `unroll exec`. A bundle given
 * as the source is imported into the local store first (the worker reads it there).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { missingApiKey } from '../config/config';
import type { ReasoningEffort, SessionSettings } from '../config/settings';
import { buildThreadRun } from '../history/build-run';
import { importObjects } from '../history/bundle';
import { parseStepRef } from '../history/step-ref';
import { DebugContext, DebugUsageError, guarded, withContext, type DebugIo } from './debug-command';
import { checkPromptSize } from './prompt-limit';
import { DEFAULT_FORK_MESSAGE, forkThread, parseEditOutput } from './fork-thread';
import { HumanOutput } from './human-output';
import { emit, exitCodeFor, watchTurn, type EventSink } from './run-turn';
import { resolveThread } from './thread-source';

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
      parseStepRef(flags.at);
      const baseInstructions = flags.instructions ? await readArgumentFile(path.resolve(io.cwd, flags.instructions), '--instructions') : undefined;
      if (baseInstructions !== undefined && baseInstructions.trim() === '') throw new DebugUsageError('--instructions: the file is empty');
      const edit = flags.editOutput ? parseEditOutput(flags.editOutput) : undefined;
      const editOutput = edit ? { callId: edit.callId, text: await readArgumentFile(path.resolve(io.cwd, edit.file), '--edit-output') } : undefined;

      const source = await resolveThread(ctx, target);
      const runtime = await ctx.runtime();
      if (source.kind === 'bundle' && source.bundle) await importObjects(source.bundle, runtime.store.backend);
      const run = await buildThreadRun(source.histories, runtime.store);
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
      const started = await forkThread(runtime.client, runtime.store, run, {
        at: flags.at,
        taskQueue: ctx.config.temporal.taskQueue,
        ...(ctx.config.session.host ? { host: ctx.config.session.host } : {}),
        message,
        ...(flags.model ? { model: flags.model } : {}),
        ...(baseInstructions !== undefined ? { baseInstructions } : {}),
        ...(editOutput ? { editOutput } : {}),
        settings,
        defaults: ctx.config.session,
      });
      emit(sink, { type: 'thread.started', thread_id: started.threadId });
      if (sink.kind === 'human') {
        const from = `${run.threadId} at ${started.point.turn}.${started.point.step}${editOutput ? ` (output of ${editOutput.callId} edited)` : ''}`;
        sink.view.header({ thread: started.threadId, 'forked from': from, model: `${started.settings.model} (${started.settings.provider.name})`, cwd: started.settings.cwd });
        sink.view.user(message);
      }
      const result = await watchTurn(runtime.client, runtime.store, started.turnWorkflowId, sink);
      if (sink.kind === 'human') io.err.write(`resume with: unroll resume ${started.threadId} "..."\ncompare with: unroll diff ${run.threadId} ${started.threadId}\n`);
      return exitCodeFor(result);
    }),
  );
}
