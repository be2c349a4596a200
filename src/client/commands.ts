/**
 * The `unroll` command line. Commands: exec (as `codex exec`: a new thread and its first
 * turn; `exec resume` and `exec fork` continue one; handlers in ./exec-command.ts, flags in
 * ./exec-flags.ts), resume (the next turn of a thread), worker (a standalone worker),
 * server (the dev server in the foreground), intervening (pending, approve, deny,
 * interrupt, send, compact), and the debugging commands threads, show, replay, fork,
 * diff, checkout, rewind, export and import (handlers in their own files). `-c`, `-p`,
 * `-v` and `-V` are global. Usage errors exit 2 with a message; a failed turn exits 1.
 * The executable's entry is ./cli.ts, which hands `exec` to a running resident worker when
 * it can (./resident-exec-client.ts) and loads this module otherwise.
 */
import { existsSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { StoreConfigError } from '../store/errors';
import { ThreadStoreMismatchError } from './thread-store';
import { ConfigError, loadConfig, missingApiKey, unrollHome, type ConfigOverrides, type ConfigSelection, type UnrollConfig } from '../config/config';
import { legacyConfigNotice } from '../config/legacy-json';
import { importCodexCommand, migrateConfigCommand } from './config-command';
import { runDevServerForeground } from '../temporal/dev-server';
import { findTemporalCli } from '../temporal/temporal-cli';
import { openRuntime, REPO_TOOLS_DIR } from './runtime';
import { compactThread, describeThread, InvalidThreadIdError, ThreadNotFoundError } from './threads';
import { execCommand, execForkCommand, resumeCommand } from './exec-command';
import { ExecFlagsError, overridesFrom, reasoningEffortOption, withExecFlags, withModelFlags, type ExecFlags } from './exec-flags';
import { ExecUsageError, NotInGitRepoError } from './exec-input';
import { NoRecentThreadError } from './last-thread';
import { UNROLL_VERSION } from './version';
import { ThreadHistoryNotFoundError } from '../history/thread-histories';
import { StepRefError } from '../history/step-ref';
import type { ExportFlags } from './bundle';
import type { CodecServerFlags } from './codec-server-command';
import type { CheckoutFlags } from './checkout';
import type { DiffFlags } from './diff';
import type { RewindFlags } from './rewind';
import type { ForkFlags } from './fork';
import type { ReplayFlags } from './replay';
import type { ShowFlags } from './show';
import type { ThreadsFlags } from './threads-list';
import { PromptTooLargeError } from './prompt-limit';
import { hostMoveEvent, hostMoveText } from './host-move';
import { withWorkerFlags, workerLogs, workerOptions, WorkerFlagsError, type WorkerFlags } from './worker-flags';
import { RequestRefusedError } from './request-errors';
import { assertCanWriteTo } from './thread-encryption';
import { ForeignServerError, NamespaceNotFoundError, NotATemporalFrontendError } from '../temporal/errors';
import type { Io } from './process-io';

export type { Io } from './process-io';

/** A problem the user can fix; printed without a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The configuration for a command: the shared `-c`/`-p` options under its flags. */
function configFor(io: Io, overrides: ConfigOverrides = {}): UnrollConfig {
  return loadConfig(io.env, { ...io.configSelection, ...overrides });
}

function requireKey(config: UnrollConfig, io: Io): void {
  const problem = missingApiKey(config.session.provider, io.env);
  if (problem) throw new UsageError(problem);
}

async function compactCommand(threadId: string, flags: WorkerFlags & { temporalAddress?: string; json?: boolean }, io: Io): Promise<number> {
  const config = configFor(io, { ...(flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}) });
  await workerLogs(flags, config.home, io.err);
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
    .option('-v, --verbose', 'also print the Temporal SDK\'s log lines on stderr (they always go to <UNROLL_HOME>/logs/unroll.log)')
    .version(UNROLL_VERSION, '-V, --version', 'print the version')
    .hook('preAction', (_root, action) => {
      const opts = root.opts<{ config?: string[]; profile?: string }>();
      const ignoreUserConfig = action.opts<{ ignoreUserConfig?: boolean }>().ignoreUserConfig === true || action.parent?.opts<{ ignoreUserConfig?: boolean }>().ignoreUserConfig === true;
      selection = { ...(opts.config ? { configValues: opts.config } : {}), ...(opts.profile !== undefined ? { profile: opts.profile } : {}), ...(ignoreUserConfig ? { ignoreUserConfig } : {}) };
      if (ignoreUserConfig) return;
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
  // `exec` as `codex exec`: a prompt runs a new thread; `exec resume` and `exec fork` continue one.
  const verbose = () => root.opts<{ verbose?: boolean }>().verbose === true;
  const exec = withExecFlags(root.command('exec').description('run the agent non-interactively: a new thread in the current directory (or -C DIR) and its first turn'))
    .argument('[prompt...]', 'the task; none or "-" reads stdin (piped stdin after a prompt is appended as a <stdin> block)')
    .version(UNROLL_VERSION, '-V, --version', 'print the version')
    .action(async (words: string[], flags: ExecFlags) => {
      result.code = await execCommand(words, { ...flags, verbose: verbose() }, io);
    });
  withExecFlags(exec.command('resume').description('run the next turn of a thread: by id, or the most recent one with --last'), 'resume')
    .argument('[thread]', 'thread id (with --last: the prompt)').argument('[prompt...]', 'the follow-up; none or "-" reads stdin')
    .action(async (thread: string | undefined, words: string[], _flags: ExecFlags, cmd: Command) => {
      // exec's own flags may be given before `resume`: they count too.
      result.code = await resumeCommand([...(thread !== undefined ? [thread] : []), ...words], { ...cmd.optsWithGlobals<ExecFlags>(), verbose: verbose() }, io, 'exec');
    });
  withExecFlags(exec.command('fork').description('start a new thread that continues from the end of another, in the current directory'), 'fork')
    .argument('<thread>', 'thread id').argument('[prompt...]', 'the first message of the fork; none or "-" reads stdin')
    .action(async (thread: string, words: string[], _flags: ExecFlags, cmd: Command) => {
      result.code = await execForkCommand(thread, words, { ...cmd.optsWithGlobals<ExecFlags>(), verbose: verbose() }, io);
    });
  withModelFlags(root.command('resume').description('run the next turn of a thread (or finish its interrupted turn)').argument('<thread>', 'thread id').argument('[prompt...]', 'the follow-up ("-" reads stdin)'))
    .option('-o, --output-last-message <FILE>', 'write the last agent message to FILE')
    .action(async (thread: string, words: string[], flags: ExecFlags) => {
      result.code = await resumeCommand([thread, ...words], { ...flags, verbose: verbose() }, io, 'plain');
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
      result.code = await compactCommand(thread, { ...flags, verbose: verbose() }, io);
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
    .addOption(reasoningEffortOption('reasoning effort of the fork'))
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
const USAGE_ERRORS = [
  UsageError, ConfigError, StoreConfigError, ThreadStoreMismatchError, ThreadNotFoundError, InvalidThreadIdError, PromptTooLargeError, RequestRefusedError, NotATemporalFrontendError,
  NamespaceNotFoundError, ForeignServerError, ExecUsageError, ExecFlagsError, NoRecentThreadError, ThreadHistoryNotFoundError, StepRefError, WorkerFlagsError,
];

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
    // Codex's own wording and status: the message stands alone.
    if (err instanceof NotInGitRepoError) {
      io.err.write(`${err.message}\n`);
      return 1;
    }
    io.err.write(`unroll: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
