/**
 * The `unroll` command line. Commands: exec (start a thread and run its first turn),
 * resume (the next turn of a thread), worker (a standalone worker), server (the dev
 * server in the foreground), and the debugging commands threads, show, replay, fork,
 * diff, export and import (handlers in their own files). Usage errors exit 2 with a
 * message; a failed turn exits 1.
 */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { StoreConfigError } from '../store/errors';
import { assertThreadInStore, ThreadStoreMismatchError } from './thread-store';
import { ConfigError, loadConfig, missingApiKey, unrollHome, type ConfigOverrides, type ConfigSelection, type UnrollConfig } from '../config/config';
import { legacyConfigNotice } from '../config/legacy-json';
import { importCodexCommand, migrateConfigCommand } from './config-command';
import { ApprovalPolicy, ReasoningEffort, SandboxMode } from '../config/settings';
import { runDevServerForeground } from '../temporal/dev-server';
import { findTemporalCli } from '../temporal/temporal-cli';
import { approvalPrompter, installCtrlC } from './exec-interaction';
import { hostMoveEvent, hostMoveText } from './host-move';
import { HumanOutput } from './human-output';
import { emit, exitCodeFor, notice, watchTurn, type EventSink } from './run-turn';
import { openRuntime, REPO_TOOLS_DIR } from './runtime';
import { sessionWorkflowId, THREAD_ID, turnWorkflowId } from '../shared/ids';
import type { SettingsChange } from '../workflows/definitions';
import { compactThread, describeThread, InvalidThreadIdError, newThreadId, startThread, submitTurn, ThreadNotFoundError } from './threads';
import type { ExportFlags } from './bundle';
import type { CodecServerFlags } from './codec-server-command';
import type { DiffFlags } from './diff';
import type { ForkFlags } from './fork';
import type { ReplayFlags } from './replay';
import type { ShowFlags } from './show';
import type { ThreadsFlags } from './threads-list';
import type { CheckoutFlags } from './checkout';
import type { RewindFlags } from './rewind';
import { withWaitNotices } from './turn-waits';
import { toolEnvironment } from '../tools/environment';
import { recordThreadEnvironment } from '../tools/thread-environment';
import { checkPromptSize, PromptTooLargeError } from './prompt-limit';
import { RequestRefusedError } from './request-errors';
import { assertCanWriteTo } from './thread-encryption';
import { ForeignServerError, NamespaceNotFoundError, NotATemporalFrontendError } from '../temporal/errors';
import { withThreadTools } from '../tools/thread-tools';

/** A problem the user can fix; printed without a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The process's side of the CLI: environment, streams, working directory. */
export interface Io {
  readonly env: Record<string, string | undefined>;
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream & { isTTY?: boolean };
  readonly cwd: string;
  /** All of standard input (for a `-` prompt). */
  readonly stdin: () => Promise<string>;
  /** The terminal, for interactive approvals; absent or not a TTY disables prompting. */
  readonly input?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** The shared `-c key=value` and `-p/--profile` options of this invocation. */
  readonly configSelection?: ConfigSelection;
}

/** The configuration for a command: the shared `-c`/`-p` options under its flags. */
function configFor(io: Io, overrides: ConfigOverrides = {}): UnrollConfig {
  return loadConfig(io.env, { ...io.configSelection, ...overrides });
}

interface ModelFlags {
  model?: string;
  provider?: string;
  baseUrl?: string;
  apiKeyEnv?: string;
  reasoningEffort?: ReasoningEffort | 'default';
  temporalAddress?: string;
  json?: boolean;
  sandbox?: SandboxMode;
  network?: boolean;
  askForApproval?: ApprovalPolicy;
  failoverAfter?: string;
}

function parseEffort(value: string): ReasoningEffort | 'default' {
  if (value === 'default') return value;
  const parsed = ReasoningEffort.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(`expected one of ${ReasoningEffort.options.join(', ')}`);
  return parsed.data;
}

function withModelFlags(cmd: Command): Command {
  return cmd
    .option('-m, --model <model>', 'model name (default: config or gpt-5.1-codex)')
    .option('--provider <name>', 'model provider: openai, ollama, lmstudio or one from config.json')
    .option('--base-url <url>', 'base URL of a Responses-compatible API (e.g. http://localhost:11434/v1)')
    .option('--api-key-env <VAR>', 'environment variable that holds the API key (default: the provider\'s, OPENAI_API_KEY for openai)')
    .addOption(new Option('--reasoning-effort <effort>', 'reasoning effort (none|minimal|low|medium|high|xhigh; "none" sends no reasoning settings)').argParser(parseEffort))
    .option('--temporal-address <host:port>', 'Temporal frontend (default 127.0.0.1:7233, or UNROLL_TEMPORAL_ADDRESS)')
    .addOption(new Option('--sandbox <mode>', 'sandbox for tool processes (needs bubblewrap on Linux; default: config or danger-full-access)').choices(SandboxMode.options))
    .option('--network', 'let sandboxed tool processes use the network')
    .addOption(new Option('-a, --ask-for-approval <policy>', 'when to ask before running a tool call (default: config or never)').choices(ApprovalPolicy.options))
    .option('--failover-after <seconds>', 'move a new thread to a live host when its host has had no worker this long (0: never; default: UNROLL_FAILOVER_AFTER, config or 120)')
    .option('--json', 'print a JSONL event stream (like codex exec --json) instead of text');
}

function overridesFrom(flags: ModelFlags): ConfigOverrides {
  return {
    ...(flags.model ? { model: flags.model } : {}),
    ...(flags.provider ? { provider: flags.provider } : {}),
    ...(flags.baseUrl ? { baseUrl: flags.baseUrl } : {}),
    ...(flags.apiKeyEnv ? { envKey: flags.apiKeyEnv } : {}),
    ...(flags.reasoningEffort && flags.reasoningEffort !== 'default' ? { reasoningEffort: flags.reasoningEffort === 'none' ? null : flags.reasoningEffort } : {}),
    ...(flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}),
    ...(flags.sandbox ? { sandboxMode: flags.sandbox } : {}),
    ...(flags.network ? { networkAccess: true } : {}),
    ...(flags.askForApproval ? { approvalPolicy: flags.askForApproval } : {}),
    ...(flags.failoverAfter !== undefined ? { failoverAfter: flags.failoverAfter } : {}),
  };
}

async function promptText(words: string[], io: Io): Promise<string> {
  const text = words.length === 1 && words[0] === '-' ? await io.stdin() : words.join(' ');
  if (text.trim() === '') throw new UsageError('the prompt is empty: give it as an argument, or "-" to read it from stdin');
  checkPromptSize(text);
  return text;
}

function sinkFor(flags: ModelFlags, io: Io): EventSink {
  if (flags.json) return { kind: 'json', out: io.out };
  const color = Boolean(io.err.isTTY) && !io.env.NO_COLOR;
  return { kind: 'human', view: new HumanOutput({ err: io.err, out: io.out, color }) };
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * SDK log level of the commands that run and follow a turn: the SDK's warnings (an
 * activity attempt failed, a poll retried while the server is away) would bury the
 * output in stack traces; the follow loop tells each of them in one line instead.
 */
const FOLLOW_LOG_LEVEL = 'ERROR';

function requireKey(config: UnrollConfig, io: Io): void {
  const problem = missingApiKey(config.session.provider, io.env);
  if (problem) throw new UsageError(problem);
}

/** `--no-worker` / `--in-process-worker` of the commands that run agents. */
interface WorkerFlags {
  /** False with `--no-worker`. */
  worker?: boolean;
  inProcessWorker?: boolean;
}

function workerOptions(flags: WorkerFlags): { withWorker: boolean; inProcessWorker: boolean } {
  if (flags.worker === false && flags.inProcessWorker) throw new UsageError('--no-worker and --in-process-worker contradict each other: give one');
  return { withWorker: flags.worker !== false, inProcessWorker: Boolean(flags.inProcessWorker) };
}

/**
 * Installs the SDK logger at {@link FOLLOW_LOG_LEVEL} when the worker runs in this
 * process; the SDK runtime is loaded only then (a thin client must not pay its import).
 */
async function quietWorkerLogs(flags: WorkerFlags): Promise<void> {
  if (!workerOptions(flags).inProcessWorker) return;
  const { installRuntimeLogger } = await import('./runtime-logger');
  installRuntimeLogger(FOLLOW_LOG_LEVEL, FOLLOW_LOG_LEVEL);
}

function withWorkerFlags(cmd: Command): Command {
  return cmd
    .option('--no-worker', 'use no worker of this home: one started elsewhere (`unroll worker`) serves the task queue')
    .option('--in-process-worker', 'run the worker in this process (it ends with the command) instead of the resident one');
}

async function execCommand(words: string[], flags: ModelFlags & WorkerFlags & { cd?: string }, io: Io): Promise<number> {
  const config = configFor(io, overridesFrom(flags));
  requireKey(config, io);
  const text = await promptText(words, io);
  const cwd = path.resolve(io.cwd, flags.cd ?? '.');
  if (!isDirectory(cwd)) throw new UsageError(`the workspace ${cwd} is not a directory (-C/--cd)`);
  const sink = sinkFor(flags, io);
  const log = (msg: string) => io.err.write(`${msg}\n`);
  await quietWorkerLogs(flags);
  const runtime = await openRuntime(config, io.env, { ...workerOptions(flags), log });
  try {
    const threadId = newThreadId();
    // The thread records its store, so a worker on another store refuses it by name, and,
    // when a worker of this machine's home runs it, the environment its tools get: this
    // shell's, filtered, whichever process happened to start that worker. With
    // --no-worker the tools run where a worker elsewhere is, with that worker's own.
    const environment = flags.worker === false ? undefined : await recordThreadEnvironment(runtime.store, toolEnvironment(io.env, config.toolEnvironment.policy, config.toolEnvironment.secretNames));
    // Its tools are fixed now, for the whole thread (src/tools/thread-tools.ts).
    const settings = withThreadTools({ ...config.session, cwd, storeId: runtime.storeId, storeDescription: runtime.opened.description, ...(environment ? { toolEnvironment: environment } : {}) });
    emit(sink, { type: 'thread.started', thread_id: threadId });
    if (sink.kind === 'human') {
      sink.view.header({ thread: threadId, model: `${settings.model} (${settings.provider.name})`, cwd, host: config.hostId });
      sink.view.user(text);
    }
    const uninstall = installCtrlC(runtime.client, () => threadId, io.err);
    try {
      const started = await withWaitNotices(runtime.client, sessionWorkflowId(threadId), startThread(runtime.client, { threadId, settings, text, taskQueue: config.temporal.taskQueue }), (m) => notice(sink, m));
      const prompter = sink.kind === 'human' && io.input?.isTTY ? approvalPrompter(runtime.client, threadId, io.input, io.err) : undefined;
      const result = await watchTurn(runtime.client, runtime.store, started.turnWorkflowId, sink, undefined, prompter);
      if (sink.kind === 'human') io.err.write(`resume with: unroll resume ${threadId} "..."\n`);
      return exitCodeFor(result);
    } finally {
      uninstall();
    }
  } finally {
    await runtime.close();
  }
}

/** The settings a `resume` changes from its turn on (only what was given explicitly). */
function settingsChangeFrom(flags: ModelFlags): SettingsChange | undefined {
  if (flags.provider || flags.baseUrl || flags.apiKeyEnv) {
    throw new UsageError('the provider of a thread cannot change mid-thread (--provider, --base-url, --api-key-env); fork the thread or start a new one');
  }
  const change: SettingsChange = {
    ...(flags.model ? { model: flags.model } : {}),
    ...(flags.reasoningEffort && flags.reasoningEffort !== 'default' ? { reasoningEffort: flags.reasoningEffort === 'none' ? null : flags.reasoningEffort } : {}),
  };
  return Object.keys(change).length > 0 ? change : undefined;
}

async function resumeCommand(threadId: string, words: string[], flags: ModelFlags & WorkerFlags, io: Io): Promise<number> {
  if (!THREAD_ID.test(threadId)) throw new InvalidThreadIdError(threadId);
  const change = settingsChangeFrom(flags);
  // Read (and size-check) the prompt before anything is contacted.
  const text = words.length > 0 ? await promptText(words, io) : null;
  const config = configFor(io, { ...(flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}) });
  const sink = sinkFor(flags, io);
  await quietWorkerLogs(flags);
  const runtime = await openRuntime(config, io.env, { ...workerOptions(flags), log: (m) => io.err.write(`${m}\n`) });
  const uninstall = installCtrlC(runtime.client, () => threadId, io.err);
  try {
    // Reading and writing an encrypted thread need its key: say so before anything is sent.
    await assertCanWriteTo(runtime.client, threadId);
    let view = await describeThread(runtime.client, threadId);
    assertThreadInStore(threadId, view.settings, runtime.opened, runtime.storeId);
    requireKey({ ...config, session: { ...config.session, provider: view.settings.provider } }, io);
    emit(sink, { type: 'thread.started', thread_id: threadId });
    let code = 0;
    if (view.runningTurn !== null) {
      // The previous turn was cut off (its worker died): finish it first.
      if (sink.kind === 'human') io.err.write(`turn ${view.runningTurn} is still running; following it\n`);
      code = exitCodeFor(await watchTurn(runtime.client, runtime.store, turnWorkflowId(threadId, view.runningTurn), sink, view.usage));
    }
    if (text === null) {
      if (view.runningTurn === null) throw new UsageError(`thread ${threadId} has no running turn; give a prompt to start the next one`);
      return code;
    }
    if (sink.kind === 'human') sink.view.user(text);
    const started = await withWaitNotices(runtime.client, sessionWorkflowId(threadId), submitTurn(runtime.client, threadId, text, change), (m) => notice(sink, m));
    view = await describeThread(runtime.client, threadId);
    const prompter = sink.kind === 'human' && io.input?.isTTY ? approvalPrompter(runtime.client, threadId, io.input, io.err) : undefined;
    return exitCodeFor(await watchTurn(runtime.client, runtime.store, started.turnWorkflowId, sink, view.usage, prompter));
  } finally {
    uninstall();
    await runtime.close();
  }
}

async function compactCommand(threadId: string, flags: WorkerFlags & { temporalAddress?: string; json?: boolean }, io: Io): Promise<number> {
  const config = configFor(io, { ...(flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}) });
  await quietWorkerLogs(flags);
  const runtime = await openRuntime(config, io.env, { ...workerOptions(flags), log: (m) => io.err.write(`${m}\n`) });
  try {
    await assertCanWriteTo(runtime.client, threadId);
    const view = await describeThread(runtime.client, threadId);
    requireKey({ ...config, session: { ...config.session, provider: view.settings.provider } }, io);
    const summary = await compactThread(runtime.client, threadId);
    // The thread's pinned host was lost and the compaction moved it (host failover).
    if (summary.moved) io.err.write(`${hostMoveText(summary.moved)}\n`);
    if (flags.json) {
      if (summary.moved) io.out.write(`${JSON.stringify({ ...hostMoveEvent(summary.moved), thread_id: threadId })}\n`);
      io.out.write(`${JSON.stringify({ type: 'context.compacted', thread_id: threadId, reason: summary.reason, mode: summary.mode, tokens_before: summary.tokensBefore, tokens_after: summary.tokensAfter, dropped_items: summary.droppedItems, head: summary.head })}\n`);
    } else io.out.write(`compacted thread ${threadId} (${summary.mode}): ≈${summary.tokensBefore} → ≈${summary.tokensAfter} tokens\n`);
    return 0;
  } finally {
    await runtime.close();
  }
}

async function serverCommand(flags: { temporalAddress?: string }, io: Io): Promise<number> {
  const config = configFor(io, overridesFrom(flags));
  const cliPath = await findTemporalCli({ explicitPath: config.temporal.cliPath, toolsDir: REPO_TOOLS_DIR, install: true, log: (m) => io.err.write(`${m}\n`) });
  io.err.write(`Temporal dev server at ${config.temporal.address}, data in ${config.temporal.dbFile}\n`);
  return runDevServerForeground({ address: config.temporal.address, cliPath, dbFile: config.temporal.dbFile, namespace: config.temporal.namespace });
}

/** Builds the command tree; actions store their exit code in `result.code`. */
function program(baseIo: Io, result: { code: number }): Command {
  let selection: ConfigSelection = {};
  // Every command's handler gets the -c/-p values of this invocation through its Io.
  const io: Io = {
    ...baseIo,
    get configSelection() {
      return selection;
    },
  };
  const root = new Command('unroll')
    .description('A durable Codex-style coding agent on Temporal')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .configureHelp({ showGlobalOptions: true })
    // Shared by every command that reads the configuration; given before or after the command name.
    .option('-c, --config <key=value>', 'override a config.toml value: a dotted key, the value parsed as TOML (else a string), e.g. -c model="o3" (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('-p, --profile <name>', 'use the profile <name>: <home>/<name>.config.toml, or [profiles.<name>] in config.toml')
    .hook('preAction', (_root, action) => {
      const opts = root.opts<{ config?: string[]; profile?: string }>();
      selection = { ...(opts.config ? { configValues: opts.config } : {}), ...(opts.profile !== undefined ? { profile: opts.profile } : {}) };
      // `config migrate` is the cure the notice names: it need not repeat it.
      if (action.parent?.name() === 'config') return;
      const notice = legacyConfigNotice(unrollHome(io.env), existsSync);
      if (notice) io.err.write(`${notice}\n`);
    });
  const config = root.command('config').description('configuration files: import a Codex home, migrate config.json');
  config.command('import-codex').description("import a Codex home's config.toml, profile files and global AGENTS.md into the Unroll home, reporting what was imported and skipped")
    .option('--codex-home <dir>', 'the Codex home (default: CODEX_HOME, else ~/.codex)')
    .option('--force', 'replace an existing config.toml (its [unroll] table is kept), profile files and AGENTS.md')
    .action((flags: { codexHome?: string; force?: boolean }) => {
      result.code = importCodexCommand(flags, io);
    });
  config.command('migrate').description('convert the deprecated config.json to config.toml (config.json is renamed config.json.migrated)')
    .action(() => {
      result.code = migrateConfigCommand(io);
    });
  withWorkerFlags(withModelFlags(root.command('exec').description('start a thread in the current directory and run the task').argument('<prompt...>', 'the task ("-" reads stdin)')))
    .option('-C, --cd <dir>', 'workspace directory (default: the current directory)')
    .action(async (words: string[], flags: ModelFlags & WorkerFlags & { cd?: string }) => {
      result.code = await execCommand(words, flags, io);
    });
  withWorkerFlags(withModelFlags(root.command('resume').description('run the next turn of a thread (or finish its interrupted turn)').argument('<thread>', 'thread id').argument('[prompt...]', 'the follow-up ("-" reads stdin)')))
    .action(async (thread: string, words: string[], flags: ModelFlags & WorkerFlags) => {
      result.code = await resumeCommand(thread, words, flags, io);
    });
  root.command('pending').description('list tool calls waiting for approval (all running threads, or one)').argument('[thread]', 'thread id')
    .option('--json', 'print JSON').option('--temporal-address <host:port>', 'Temporal frontend')
    .action(async (thread: string | undefined, flags: { json?: boolean; temporalAddress?: string }) => {
      result.code = await (await import('./intervene-commands')).pendingCommand(thread, flags, io);
    });
  root.command('approve').description("approve a waiting tool call of a thread's running turn").argument('<thread>', 'thread id').argument('[callId]', 'the call (optional when only one waits)')
    .option('--for-session', 'also approve the same command (or all patches) for the rest of the thread').option('--temporal-address <host:port>', 'Temporal frontend')
    .action(async (thread: string, callId: string | undefined, flags: { forSession?: boolean; temporalAddress?: string }) => {
      result.code = await (await import('./intervene-commands')).approveCommand(thread, callId, flags, io);
    });
  root.command('deny').description("deny a waiting tool call (the model is told and continues)").argument('<thread>', 'thread id').argument('[callId]', 'the call (optional when only one waits)')
    .option('--abort', 'deny and end the turn as interrupted').option('--temporal-address <host:port>', 'Temporal frontend')
    .action(async (thread: string, callId: string | undefined, flags: { abort?: boolean; temporalAddress?: string }) => {
      result.code = await (await import('./intervene-commands')).denyCommand(thread, callId, flags, io);
    });
  root.command('interrupt').description("interrupt a thread's running turn (kills the running command, cancels the model stream)").argument('<thread>', 'thread id')
    .option('--temporal-address <host:port>', 'Temporal frontend')
    .action(async (thread: string, flags: { temporalAddress?: string }) => {
      result.code = await (await import('./intervene-commands')).interruptCommand(thread, flags, io);
    });
  root.command('send').description('send a message to the running turn (before its next model request), or start the next turn').argument('<thread>', 'thread id').argument('<message...>', 'the message')
    .option('--temporal-address <host:port>', 'Temporal frontend')
    .action(async (thread: string, words: string[], flags: { temporalAddress?: string }) => {
      result.code = await (await import('./intervene-commands')).sendCommand(thread, words, flags, io);
    });
  withWorkerFlags(root.command('compact').description("compact a thread's context now (after its running turn, if any)").argument('<thread>', 'thread id'))
    .option('--temporal-address <host:port>', 'Temporal frontend')
    .option('--json', 'print the result as JSON')
    .action(async (thread: string, flags: WorkerFlags & { temporalAddress?: string; json?: boolean }) => {
      result.code = await compactCommand(thread, flags, io);
    });
  const worker = root.command('worker').description('run a standalone worker (workflows, inference and tools); `worker stop` / `worker status` for the resident one')
    .option('--temporal-address <host:port>', 'Temporal frontend')
    .option('--host-id <name>', "this host's id: threads started here run their tools here (default: UNROLL_HOST_ID, else the hostname)")
    .option('--workspace-root <dir>', 'where this host restores the workspaces of threads it adopts from lost hosts (default: UNROLL_WORKSPACE_ROOT, config, else <home>/workspaces)')
    // The form the commands that run agents start in the background (see ./resident-worker.ts).
    .addOption(new Option('--resident', 'run as the home\'s resident worker (record, idle shutdown)').hideHelp())
    .action(async (flags: { temporalAddress?: string; hostId?: string; workspaceRoot?: string; resident?: boolean }) => {
      result.code = await (await import('./worker-command')).workerCommand({
        ...io.configSelection,
        ...overridesFrom(flags),
        ...(flags.hostId !== undefined ? { hostId: flags.hostId } : {}),
        ...(flags.workspaceRoot !== undefined ? { workspaceRoot: flags.workspaceRoot } : {}),
      }, io, { resident: flags.resident });
    });
  worker.command('stop').description("stop this home's resident worker (it drains first)")
    .action(async () => {
      result.code = await (await import('./worker-command')).workerStopCommand(io);
    });
  worker.command('status').description("this home's resident worker: pid, build, task queue (exit 1 when none runs)")
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      result.code = await (await import('./worker-command')).workerStatusCommand(io, Boolean(flags.json));
    });
  root.command('server').description('run the Temporal dev server in the foreground')
    .option('--temporal-address <host:port>', 'address to listen on')
    .action(async (flags: { temporalAddress?: string }) => {
      result.code = await serverCommand(flags, io);
    });
  // Debugging commands (handlers in ./threads-list, ./show, ./replay, ./fork, ./diff, ./bundle).
  // They and the intervention commands are imported when they run: `exec`, the command
  // whose start-up latency matters, must not pay for loading them.
  const address = '--temporal-address <host:port>';
  root.command('threads').description('list threads, newest first')
    .option('--status <status>', 'only threads in this state: running, completed, failed, terminated, cancelled, timed-out')
    .option('--since <when>', 'only threads created since an ISO date or a span back (30m, 2h, 3d)')
    .option('--limit <n>', 'at most this many (default 50)')
    .option('--json', 'print JSON').option(address, 'Temporal frontend')
    .action(async (flags: ThreadsFlags) => {
      result.code = await (await import('./threads-list')).threadsCommand(flags, io);
    });
  root.command('show').description('a thread (or bundle) as a numbered step list').argument('<thread>', 'thread id or bundle file')
    .option('--turn <n>', 'only this turn').option('--step <turn.step>', 'one step in full, with the exact request input and the files it changed')
    .option('--diff', 'with --step: the unified diff of the files the step changed')
    .option('--json', 'print JSON').option(address, 'Temporal frontend')
    .action(async (thread: string, flags: ShowFlags) => {
      result.code = await (await import('./show')).showCommand(thread, flags, io);
    });
  root.command('replay').description("replay a thread's workflow histories against the current workflow code").argument('<thread>', 'thread id or bundle file')
    .option('--workflow-bundle <file>', 'replay against this workflow bundle instead of the built one')
    .option('--json', 'print JSON').option(address, 'Temporal frontend')
    .action(async (thread: string, flags: ReplayFlags) => {
      result.code = await (await import('./replay')).replayCommand(thread, flags, io);
    });
  root.command('fork').description('start a new thread from a step of another and run its next turn').argument('<thread>', 'thread id or bundle file')
    .option('--at <turn.step>', 'the step to fork at (see `unroll show`)')
    .option('-m, --model <model>', 'model of the fork (default: the parent\'s)')
    .option('--instructions <file>', 'base instructions of the fork, from a file')
    .option('--edit-output <callId=file>', 'replace the output of a tool call with the contents of a file')
    .option('--message <text>', 'the user message of the fork\'s first turn (default: ask to continue)')
    .option('--provider <name>', 'model provider of the fork').option('--base-url <url>', 'base URL of the fork\'s Responses API')
    .option('--api-key-env <VAR>', 'environment variable that holds the API key')
    .addOption(new Option('--reasoning-effort <effort>', 'reasoning effort of the fork').argParser(parseEffort))
    .option('-C, --cd <dir>', 'workspace of the fork: the step\'s files are written there (new or empty; default <UNROLL_HOME>/workspaces/<fork id>)')
    .option('--force', 'write the files into a non-empty -C directory (files of the same name are overwritten, others left alone)')
    .option('--no-files', 'fork the transcript only: the fork runs in -C or the parent\'s workspace as it is now')
    .option('--no-worker', 'do not run a worker in this process').option('--json', 'print a JSONL event stream').option(address, 'Temporal frontend')
    .action(async (thread: string, flags: ForkFlags) => {
      result.code = await (await import('./fork')).forkCommand(thread, flags, io);
    });
  root.command('diff').description('where two runs (e.g. a thread and its fork) diverge, step by step').argument('<threadA>', 'thread id or bundle file').argument('<threadB>', 'thread id or bundle file')
    .option('--json', 'print JSON').option(address, 'Temporal frontend')
    .action(async (a: string, b: string, flags: DiffFlags) => {
      result.code = await (await import('./diff')).diffCommand(a, b, flags, io);
    });
  root.command('checkout').description('write the workspace as it was after a step into a directory').argument('<thread>', 'thread id or bundle file')
    .option('--at <turn.step>', 'the step (see `unroll show`; <turn>.0 is the turn\'s start)')
    .option('-C, --cd <dir>', 'the directory to write into (new or empty)')
    .option('--force', 'write into a non-empty directory: files of the same name are overwritten, others left alone')
    .option('--json', 'print the result as JSON').option(address, 'Temporal frontend')
    .action(async (thread: string, flags: CheckoutFlags) => {
      result.code = await (await import('./checkout')).checkoutCommand(thread, flags, io);
    });
  root.command('rewind').description("set a thread back to a step: reset its workspace to the step's files; its next turn starts from there").argument('<thread>', 'thread id')
    .option('--to <turn.step>', 'the step (see `unroll show`)')
    .option('--json', 'print the result as JSON')
    .option('--no-worker', 'do not run a worker in this process (the thread\'s host must run one)').option(address, 'Temporal frontend')
    .action(async (thread: string, flags: RewindFlags) => {
      result.code = await (await import('./rewind')).rewindCommand(thread, flags, io);
    });
  root.command('export').description("write a thread's histories and transcript objects to a bundle").argument('<thread>', 'thread id')
    .option('-o, --output <file>', 'the bundle file to write (e.g. run.unroll.gz)').option(address, 'Temporal frontend')
    .action(async (thread: string, flags: ExportFlags) => {
      result.code = await (await import('./bundle')).exportCommand(thread, flags, io);
    });
  root.command('import').description('load a bundle into the local store (then show/replay/diff/fork it by id)').argument('<file>', 'bundle file')
    .action(async (file: string) => {
      result.code = await (await import('./bundle')).importCommand(file, io);
    });
  root.command('codec-server').description('serve the encryption key as a Temporal codec server for the Web UI and CLI (until Ctrl-C)')
    .option('--port <port>', 'port (default 8888; 0 picks a free one)').option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--origin <url...>', 'browser origins allowed to call it (default: the dev server UI, http://localhost:8233 and http://127.0.0.1:8233)')
    .option('--namespace <ns>', 'serve only this namespace (default: the configured one)')
    .action(async (flags: CodecServerFlags) => {
      result.code = await (await import('./codec-server-command')).codecServerCommand(flags, io);
    });
  return root;
}

/** Errors that are the user's to fix: printed as one line, exit 2. */
const USAGE_ERRORS = [UsageError, ConfigError, StoreConfigError, ThreadStoreMismatchError, ThreadNotFoundError, InvalidThreadIdError, PromptTooLargeError, RequestRefusedError, NotATemporalFrontendError, NamespaceNotFoundError, ForeignServerError];

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  const result = { code: 0 };
  try {
    await program(io, result).parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (USAGE_ERRORS.some((type) => err instanceof type)) {
      io.err.write(`unroll: ${(err as Error).message}\n`);
      return 2;
    }
    io.err.write(`unroll: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/**
 * Reads a stream to its end. (`readFileSync(0)` fails with EAGAIN when stdin is a
 * non-blocking pipe whose writer has not finished yet.)
 */
async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** The {@link Io} of this process: its environment, standard streams and working directory. */
export function processIo(): Io {
  return { env: process.env, out: process.stdout, err: process.stderr, cwd: process.cwd(), stdin: () => readAll(process.stdin), input: process.stdin };
}

if (require.main === module) {
  main(process.argv.slice(2), processIo()).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`unroll: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
