/**
 * `unroll exec [prompt]` (a new thread and its first turn), `unroll exec resume
 * [--last | <thread>] [prompt]` (the next turn of a thread) and `unroll exec fork <thread>
 * [prompt]` (a new thread continuing from the end of another), as `codex exec` and its
 * `resume`/`fork` subcommands behave, plus the top-level `unroll resume`. What happens
 * before anything is contacted: the prompt is read (./exec-input.ts), the workspace must be
 * in a git repository unless `--skip-git-repo-check` (or the bypass) says otherwise, the
 * `--output-schema` file is read, and so are the `-i` images (./exec-images.ts). The schema
 * goes to the store and the thread's settings name it by hash; the images go to the store
 * inside the turn's user message, which the submit update names by hash. After the turn, `-o` gets its last message, and an `--ephemeral` thread
 * is ended (see the README: it cannot be resumed; its record stays for show and replay).
 */
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CHECKPOINT_SETTINGS } from '../checkpoints/types';
import { loadConfig, missingApiKey, type ConfigOverrides, type UnrollConfig } from '../config/config';
import type { SessionSettings } from '../config/settings';
import { decodeThreadHistories } from '../codec/history-codec';
import { buildThreadRun } from '../history/build-run';
import { fetchThreadHistories } from '../history/thread-histories';
import type { ThreadRun } from '../history/thread-run';
import { messageText } from '../items/schemas';
import { sessionWorkflowId, THREAD_ID, turnWorkflowId } from '../shared/ids';
import type { TranscriptStore } from '../store';
import type { SettingsChange, TurnResult } from '../workflows/definitions';
import { approvalPrompter, installCtrlC } from './exec-interaction';
import { ExecFlagsError, execOverrides, type ExecFlags } from './exec-flags';
import { assertInGitRepo, assertWritableTarget, ExecUsageError, execPrompt, readOutputSchema, writeLastMessage, type ExecStdin } from './exec-input';
import { imageLabels, readExecImages, storeImageMessage } from './exec-images';
import { forkThread } from './fork-thread';
import { HumanOutput } from './human-output';
import { lastThreadId } from './last-thread';
import { checkPromptSize } from './prompt-limit';
import { emit, exitCodeFor, notice, watchTurn, type EventSink } from './run-turn';
import { openRuntime, type UnrollRuntime } from './runtime';
import { workerLogs, workerOptions } from './worker-flags';
import { toolEnvironment } from '../tools/environment';
import { recordThreadEnvironment } from '../tools/thread-environment';
import { withThreadTools } from '../tools/thread-tools';
import { mcpServerSettings, reportMcpFailures } from './mcp-startup';
import { assertCanWriteTo } from './thread-encryption';
import { assertThreadInStore } from './thread-store';
import { describeThread, InvalidThreadIdError, newThreadId, startThread, submitTurn } from './threads';
import { withWaitNotices } from './turn-waits';
import type { Io } from './process-io';

/** The process's side of a turn-running command. */
export type ExecIo = Io;

function configFor(io: ExecIo, overrides: ConfigOverrides): UnrollConfig {
  return loadConfig(io.env, { ...io.configSelection, ...overrides });
}

function requireKey(provider: SessionSettings['provider'], io: ExecIo): void {
  const problem = missingApiKey(provider, io.env);
  if (problem) throw new ExecUsageError(problem);
}

/** `--color`: always, never, or (auto) when stderr is a terminal and NO_COLOR is unset. */
function sinkFor(flags: ExecFlags, io: ExecIo): EventSink {
  if (flags.json) return { kind: 'json', out: io.out };
  const color = flags.color === 'always' ? true : flags.color === 'never' ? false : Boolean(io.err.isTTY) && !io.env.NO_COLOR;
  return { kind: 'human', view: new HumanOutput({ err: io.err, out: io.out, color }) };
}

/**
 * Stdin as exec reads it: a terminal (or no stdin at all) is never waited on; a pipe that
 * stays open is told on stderr, so it is not a silent hang.
 */
function stdinOf(io: ExecIo): ExecStdin {
  const notify = io.resident ? io.resident.notify.bind(io.resident) : (text: string) => io.err.write(text);
  return { read: io.stdin, isTTY: io.input === undefined || io.input.isTTY === true, onRead: (m: string) => notify(`${m}\n`) };
}

/** The git check of Codex's exec: skipped by `--skip-git-repo-check` and by the bypass. */
function checkGitRepo(dir: string, flags: ExecFlags): void {
  if (!flags.skipGitRepoCheck && !flags.dangerouslyBypassApprovalsAndSandbox) assertInGitRepo(dir);
}

/** Reads `--output-schema` and checks `-o` before the run; both are paths from the current directory. */
async function readOutputFlags(flags: ExecFlags, io: ExecIo): Promise<{ schema?: Record<string, unknown>; lastMessageFile?: string }> {
  const schema = flags.outputSchema !== undefined ? await readOutputSchema(path.resolve(io.cwd, flags.outputSchema)) : undefined;
  const lastMessageFile = flags.outputLastMessage !== undefined ? path.resolve(io.cwd, flags.outputLastMessage) : undefined;
  if (lastMessageFile) await assertWritableTarget(lastMessageFile);
  return { ...(schema ? { schema } : {}), ...(lastMessageFile ? { lastMessageFile } : {}) };
}

/** `exec fork -i` is not supported yet: refused by name rather than ignored. */
function refuseImages(flags: ExecFlags): void {
  if (flags.image && flags.image.length > 0) throw new ExecUsageError('-i/--image is not supported by exec fork yet: start the fork without it, then `unroll exec resume <thread> -i FILE "..."`');
}

/** What the commands do once the turn has ended: `-o`, `--ephemeral`, the exit code. */
async function finishTurn(runtime: UnrollRuntime, threadId: string, result: TurnResult, flags: ExecFlags, io: ExecIo, lastMessageFile: string | undefined, sink: EventSink): Promise<number> {
  if (lastMessageFile) await writeLastMessage(lastMessageFile, await lastMessageText(runtime.store, result));
  if (flags.ephemeral) {
    await runtime.client.workflow.getHandle(sessionWorkflowId(threadId)).terminate('--ephemeral: the thread ends with its exec');
  } else if (sink.kind === 'human') {
    io.err.write(`resume with: unroll exec resume ${threadId} "..."\n`);
  }
  return exitCodeFor(result);
}

/** Stores an `--output-schema` as the bytes it was read as (key order kept); returns its hash. */
function storeSchema(store: TranscriptStore, schema: Record<string, unknown>): Promise<string> {
  return store.putBlob(Buffer.from(JSON.stringify(schema), 'utf8'));
}

async function lastMessageText(store: TranscriptStore, result: TurnResult): Promise<string | null> {
  if (!result.lastMessage) return null;
  const item = await store.getItem(result.lastMessage.hash);
  return item.type === 'message' ? messageText(item) : null;
}

async function openExecRuntime(config: UnrollConfig, flags: ExecFlags, io: ExecIo): Promise<UnrollRuntime> {
  // Handed over by a thin client: the resident worker's own connection and store.
  if (io.resident) return io.resident.runtimeFor(config, flags);
  await workerLogs(flags, config.home, io.err);
  return openRuntime(config, io.env, { ...workerOptions(flags), log: (m) => io.err.write(`${m}\n`) });
}

/** Settings an `--ephemeral` thread runs with: no workspace checkpoints. */
function ephemeralSettings(config: UnrollConfig, flags: ExecFlags): Partial<SessionSettings> {
  return flags.ephemeral ? { checkpoints: { ...(config.session.checkpoints ?? DEFAULT_CHECKPOINT_SETTINGS), enabled: false } } : {};
}

/** Runs `unroll exec [prompt]`; see the module comment. */
export async function execCommand(words: string[], flags: ExecFlags, io: ExecIo): Promise<number> {
  const config = configFor(io, execOverrides(flags, io.cwd));
  requireKey(config.session.provider, io);
  const text = await execPrompt(words, stdinOf(io));
  const images = await readExecImages(flags.image, io.cwd);
  const cwd = path.resolve(io.cwd, flags.cd ?? '.');
  if (!isDirectory(cwd)) throw new ExecUsageError(`the workspace ${cwd} is not a directory (-C/--cd)`);
  checkGitRepo(cwd, flags);
  const output = await readOutputFlags(flags, io);
  const sink = sinkFor(flags, io);
  const runtime = await openExecRuntime(config, flags, io);
  try {
    const threadId = newThreadId();
    // The thread records its store, so a worker on another store refuses it by name, and,
    // when a worker of this machine's home runs it, the environment its tools get: this
    // shell's, filtered, whichever process happened to start that worker. With
    // --no-worker the tools run where a worker elsewhere is, with that worker's own.
    const environment = flags.worker === false ? undefined : await recordThreadEnvironment(runtime.store, toolEnvironment(io.env, config.toolEnvironment.policy, config.toolEnvironment.secretNames));
    // Its tools are fixed now, for the whole thread (src/tools/thread-tools.ts).
    const settings: SessionSettings = withThreadTools({
      ...config.session,
      ...(environment ? { toolEnvironment: environment } : {}),
      cwd,
      storeId: runtime.storeId,
      storeDescription: runtime.opened.description,
      ...ephemeralSettings(config, flags),
      ...(output.schema ? { outputSchema: await storeSchema(runtime.store, output.schema) } : {}),
      ...(await mcpServerSettings(config, runtime.store)),
    });
    // With -i, the message (images and prompt) is stored now and the update names it.
    const item = await storeImageMessage(runtime.store, text, images, settings.model);
    emit(sink, { type: 'thread.started', thread_id: threadId });
    if (sink.kind === 'human') {
      sink.view.header({ thread: threadId, model: `${settings.model} (${settings.provider.name})`, cwd, sandbox: settings.sandboxMode, approval: settings.approvalPolicy, host: config.hostId });
      sink.view.user(`${imageLabels(images)}${text}`);
    }
    const uninstall = installCtrlC(runtime.client, () => threadId, io.err, io.signals);
    try {
      const started = await withWaitNotices(runtime.client, sessionWorkflowId(threadId), startThread(runtime.client, { threadId, settings, text, taskQueue: config.temporal.taskQueue, ...(item !== undefined ? { item } : {}) }), (m) => notice(sink, m));
      if (settings.mcpServers !== undefined) await reportMcpFailures(runtime.client, threadId, sink);
      const prompter = sink.kind === 'human' && io.input?.isTTY ? approvalPrompter(runtime.client, threadId, io.input, io.err) : undefined;
      const result = await watchTurn(runtime.client, runtime.store, started.turnWorkflowId, sink, undefined, prompter);
      return await finishTurn(runtime, threadId, result, flags, io, output.lastMessageFile, sink);
    } finally {
      uninstall();
    }
  } finally {
    await runtime.close();
  }
}

/** How `resume` reads its prompt: Codex's exec rules, or the top-level command's (`-`, or none to finish a cut-off turn). */
type PromptSource = { readonly kind: 'exec'; readonly words: string[] } | { readonly kind: 'plain'; readonly words: string[] };

async function resumePrompt(source: PromptSource, io: ExecIo): Promise<string | null> {
  if (source.kind === 'exec') return execPrompt(source.words, stdinOf(io));
  if (source.words.length === 0) return null;
  const text = source.words.length === 1 && source.words[0] === '-' ? await io.stdin() : source.words.join(' ');
  if (text.trim() === '') throw new ExecUsageError('the prompt is empty: give it as an argument, or "-" to read it from stdin');
  checkPromptSize(text);
  return text;
}

/** The settings a resumed turn changes (only what was given explicitly; the schema is per turn, as in Codex). */
function settingsChangeFrom(flags: ExecFlags, threadSettings: SessionSettings, schemaHash: string | undefined): SettingsChange | undefined {
  const change: SettingsChange = {
    ...(flags.model ? { model: flags.model } : {}),
    ...(flags.reasoningEffort && flags.reasoningEffort !== 'default' ? { reasoningEffort: flags.reasoningEffort === 'none' ? null : flags.reasoningEffort } : {}),
    ...(flags.dangerouslyBypassApprovalsAndSandbox ? { sandboxMode: 'danger-full-access' as const, approvalPolicy: 'never' as const } : {}),
    ...(schemaHash !== undefined ? { outputSchema: schemaHash } : threadSettings.outputSchema !== undefined ? { outputSchema: null } : {}),
  };
  return Object.keys(change).length > 0 ? change : undefined;
}

/** Which thread `exec resume` continues, and its prompt words (with `--last`, the first word is the prompt). */
function resumeTarget(args: string[], flags: ExecFlags): { thread: string | null; words: string[] } {
  if (flags.last) return { thread: null, words: args };
  if (args.length === 0) throw new ExecUsageError('exec resume needs a thread id, or --last for the most recent thread');
  return { thread: args[0], words: args.slice(1) };
}

/**
 * Runs `unroll exec resume [--last | <thread>] [prompt]` (`source.kind` exec) or the
 * top-level `unroll resume <thread> [prompt]` (plain: no git check, no prompt finishes a
 * cut-off turn). A turn still running (its worker died) is followed to its end first.
 */
export async function resumeCommand(args: string[], flags: ExecFlags, io: ExecIo, kind: PromptSource['kind']): Promise<number> {
  if (flags.provider || flags.baseUrl || flags.apiKeyEnv) {
    throw new ExecUsageError('the provider of a thread cannot change mid-thread (--provider, --base-url, --api-key-env); fork the thread or start a new one');
  }
  if (flags.all && !flags.last) throw new ExecFlagsError('--all goes with --last');
  const { thread, words } = kind === 'exec' ? resumeTarget(args, flags) : { thread: args[0], words: args.slice(1) };
  if (thread !== null && !THREAD_ID.test(thread)) throw new InvalidThreadIdError(thread);
  if (kind === 'exec') checkGitRepo(io.cwd, flags);
  // Read (and size-check) the prompt and the files before anything is contacted.
  const text = await resumePrompt({ kind, words }, io);
  const images = await readExecImages(flags.image, io.cwd);
  if (images.length > 0 && text === null) throw new ExecUsageError('-i/--image goes with a prompt: give one to start the next turn with the images');
  const output = await readOutputFlags(flags, io);
  const config = configFor(io, { ...(flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}) });
  const sink = sinkFor(flags, io);
  const runtime = await openExecRuntime(config, flags, io);
  const threadId = thread ?? (await lastThreadId(runtime.client, { taskQueue: config.temporal.taskQueue, cwd: flags.all ? null : io.cwd }).catch(async (err: unknown) => {
    await runtime.close();
    throw err;
  }));
  const uninstall = installCtrlC(runtime.client, () => threadId, io.err, io.signals);
  try {
    // Reading and writing an encrypted thread need its key: say so before anything is sent.
    await assertCanWriteTo(runtime.client, threadId);
    let view = await describeThread(runtime.client, threadId);
    assertThreadInStore(threadId, view.settings, runtime.opened, runtime.storeId);
    await assertThreadOpen(runtime, threadId);
    requireKey(view.settings.provider, io);
    emit(sink, { type: 'thread.started', thread_id: threadId });
    let code = 0;
    if (view.runningTurn !== null) {
      // The previous turn was cut off (its worker died): finish it first.
      if (sink.kind === 'human') io.err.write(`turn ${view.runningTurn} is still running; following it\n`);
      code = exitCodeFor(await watchTurn(runtime.client, runtime.store, turnWorkflowId(threadId, view.runningTurn), sink, view.usage));
    }
    if (text === null) {
      if (view.runningTurn === null) throw new ExecUsageError(`thread ${threadId} has no running turn; give a prompt to start the next one`);
      return code;
    }
    const schemaHash = output.schema ? await storeSchema(runtime.store, output.schema) : undefined;
    const change = settingsChangeFrom(flags, view.settings, schemaHash);
    const item = await storeImageMessage(runtime.store, text, images, change?.model ?? view.settings.model);
    if (sink.kind === 'human') sink.view.user(`${imageLabels(images)}${text}`);
    const started = await withWaitNotices(runtime.client, sessionWorkflowId(threadId), submitTurn(runtime.client, threadId, text, change, item), (m) => notice(sink, m));
    view = await describeThread(runtime.client, threadId);
    const prompter = sink.kind === 'human' && io.input?.isTTY ? approvalPrompter(runtime.client, threadId, io.input, io.err) : undefined;
    const result = await watchTurn(runtime.client, runtime.store, started.turnWorkflowId, sink, view.usage, prompter);
    if (kind === 'plain') {
      if (output.lastMessageFile) await writeLastMessage(output.lastMessageFile, await lastMessageText(runtime.store, result));
      return exitCodeFor(result);
    }
    return await finishTurn(runtime, threadId, result, flags, io, output.lastMessageFile, sink);
  } finally {
    uninstall();
    await runtime.close();
  }
}

/** A thread whose session has ended (an `--ephemeral` one, or one terminated) takes no more turns: say so, and what to do instead. */
async function assertThreadOpen(runtime: UnrollRuntime, threadId: string): Promise<void> {
  const { status } = await runtime.client.workflow.getHandle(sessionWorkflowId(threadId)).describe();
  if (status.name === 'RUNNING') return;
  throw new ExecUsageError(`thread ${threadId} has ended (${status.name.toLowerCase()}${status.name === 'TERMINATED' ? ', e.g. an --ephemeral thread' : ''}) and takes no more turns: continue it in a new thread with \`unroll exec fork ${threadId} "..."\``);
}

/** The last step of a thread that has a response: where `exec fork` continues from. */
function lastStepOf(run: ThreadRun): string {
  for (const turn of [...run.turns].reverse()) {
    const step = [...turn.steps].reverse().find((s) => s.outputHead !== null);
    if (step) return step.id;
  }
  throw new ExecUsageError(`thread ${run.threadId} has no model response to fork from yet`);
}

/**
 * Runs `unroll exec fork <thread> [prompt]`: a new thread whose transcript is the whole
 * of `<thread>`'s (to its last step), run in the current directory with the prompt as its
 * first turn. The parent's settings carry over; `-m`, the bypass and `--output-schema`
 * change them. (`unroll fork --at T.S` forks at any step, with the step's files.)
 */
export async function execForkCommand(parent: string, words: string[], flags: ExecFlags, io: ExecIo): Promise<number> {
  refuseImages(flags);
  if (!THREAD_ID.test(parent)) throw new InvalidThreadIdError(parent);
  checkGitRepo(io.cwd, flags);
  const text = await execPrompt(words, stdinOf(io));
  const output = await readOutputFlags(flags, io);
  const config = configFor(io, { ...(flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}) });
  const sink = sinkFor(flags, io);
  const runtime = await openExecRuntime(config, flags, io);
  try {
    const stored = await fetchThreadHistories(runtime.client, parent);
    const run = await buildThreadRun(await decodeThreadHistories(stored, runtime.client.options.loadedDataConverter.payloadCodecs), runtime.store);
    if (run.settings) assertThreadInStore(parent, run.settings, runtime.opened, runtime.storeId);
    if (run.settings) requireKey(run.settings.provider, io);
    const at = lastStepOf(run);
    const threadId = newThreadId();
    const settings: Partial<SessionSettings> = {
      cwd: io.cwd,
      storeId: runtime.storeId,
      storeDescription: runtime.opened.description,
      ...(flags.reasoningEffort && flags.reasoningEffort !== 'default' ? { reasoningEffort: flags.reasoningEffort === 'none' ? null : flags.reasoningEffort } : {}),
      ...(flags.dangerouslyBypassApprovalsAndSandbox ? { sandboxMode: 'danger-full-access' as const, approvalPolicy: 'never' as const } : {}),
      ...(flags.sandbox ? { sandboxMode: flags.sandbox } : {}),
      outputSchema: output.schema ? await storeSchema(runtime.store, output.schema) : undefined,
      ...ephemeralSettings(config, flags),
    };
    const uninstall = installCtrlC(runtime.client, () => threadId, io.err, io.signals);
    try {
      const started = await forkThread(runtime.client, runtime.store, run, {
        at,
        threadId,
        taskQueue: config.temporal.taskQueue,
        ...(config.session.host ? { host: config.session.host } : {}),
        message: text,
        ...(flags.model ? { model: flags.model } : {}),
        settings,
        defaults: config.session,
      });
      emit(sink, { type: 'thread.started', thread_id: threadId });
      if (sink.kind === 'human') {
        sink.view.header({ thread: threadId, 'forked from': `${parent} at ${at}`, model: `${started.settings.model} (${started.settings.provider.name})`, cwd: started.settings.cwd });
        sink.view.user(text);
      }
      const prompter = sink.kind === 'human' && io.input?.isTTY ? approvalPrompter(runtime.client, threadId, io.input, io.err) : undefined;
      const result = await watchTurn(runtime.client, runtime.store, started.turnWorkflowId, sink, undefined, prompter);
      return await finishTurn(runtime, threadId, result, flags, io, output.lastMessageFile, sink);
    } finally {
      uninstall();
    }
  } finally {
    await runtime.close();
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
