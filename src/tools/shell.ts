/**
 * The `shell` tool: runs one command for the model and reports its exit code, wall time
 * and interleaved stdout/stderr, truncated to a byte budget (modelled on the Codex CLI).
 *
 * Every command runs in its own process group with no stdin. A timeout or a cancelled
 * activity SIGKILLs the whole group, so nothing the command started outlives it by
 * accident. Output is streamed into a bounded head+tail collector rather than buffered.
 * When the call carries a sandbox policy, the command runs inside bubblewrap
 * (./sandbox.ts); if bwrap is missing, the call fails with a message saying how to
 * install it, and the command is not run at all (never unsandboxed instead).
 *
 * The command's environment is exactly `ctx.env` (the worker's own, filtered by its shell
 * environment policy: ./environment.ts) plus the plain-text settings; it never inherits
 * the worker's process environment, which holds the provider's API key.
 */
import { stat } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { MAX_SHELL_TIMEOUT_MS } from '../config/settings';
import { DEFAULT_OUTPUT_BUDGET_BYTES, HeadTailCollector } from './output-truncation';
import { DEFAULT_BWRAP, sandboxArgv, sandboxUnavailable } from './sandbox';
import { defineTool, type ToolRunOptions } from './contract';
import { commandExecutionKind } from './display';
import { commandFacts } from './command-facts';
import { launch, type LaunchedProcess } from './launcher';
import { functionSpec } from './specs';
import { usesUnifiedExec } from './unified-exec/choice';
import type { ToolContext, ToolResult } from './types';

/** How long a command may run when the model does not say. */
export const DEFAULT_SHELL_TIMEOUT_MS = 10_000;
export { MAX_SHELL_TIMEOUT_MS };
/** After the direct child exits, how long descendants may keep the pipes open. */
const PIPE_GRACE_MS = 250;
/** Below Temporal's usual heartbeat timeouts, and "at least every second". */
const HEARTBEAT_INTERVAL_MS = 500;
const MAX_DISPLAY_COMMAND_CHARS = 500;

/** Exit codes for outcomes that are not the command's own, following shell conventions. */
const EXIT_CODE = { timedOut: 124, notExecutable: 126, notFound: 127, aborted: 130 } as const;

/** Set for every command on top of the tool environment, so output stays plain text. */
const NON_INTERACTIVE_ENV: Readonly<Record<string, string>> = {
  NO_COLOR: '1',
  TERM: 'dumb',
  PAGER: 'cat',
  GIT_PAGER: 'cat',
};

/**
 * Arguments of the `shell` tool, the single source of truth for both the JSON Schema
 * sent to the model and the parse of its call. `command` is an argv array (run directly,
 * no shell) or a non-empty string (run with `bash -c`); `workdir` is relative to the
 * workspace or absolute; `timeout_ms` is a positive integer (above
 * {@link MAX_SHELL_TIMEOUT_MS} it is clamped when the command runs, see
 * {@link clampShellTimeout}). Invalid input fails the parse.
 */
export const ShellArgs = z.object({
  command: z
    .union([z.array(z.string()).min(1), z.string().min(1)])
    .describe(
      'The command to run. An array of strings is executed directly, without a shell ' +
        '(e.g. ["rg", "-n", "TODO", "src"]). A string is run with `bash -c`; use it for ' +
        'pipes, redirects, globs and `&&`.',
    ),
  workdir: z
    .string()
    .optional()
    .describe('The working directory, relative to the workspace root. Prefer this over `cd`.'),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      `Kill the command after this many milliseconds. Defaults to ${DEFAULT_SHELL_TIMEOUT_MS}; ` +
        `at most ${MAX_SHELL_TIMEOUT_MS} (24 hours), a larger value is lowered to that.`,
    ),
  with_escalated_permissions: z
    .boolean()
    .optional()
    .describe(
      'Request to run this command without the sandbox (e.g. it needs the network or must write outside the ' +
        'workspace). Only honoured if the user approves it; always give a `justification` with it.',
    ),
  justification: z
    .string()
    .optional()
    .describe('Only with `with_escalated_permissions`: one sentence telling the user why the command must run without the sandbox.'),
});
/** Parsed arguments of the `shell` tool. */
export type ShellArgs = z.infer<typeof ShellArgs>;

/** Knobs the worker sets for {@link runShellCommand}; the model cannot change them. */
export interface ShellRunOptions {
  /** Bytes of output kept for the model (head + tail). Defaults to 10 KiB. */
  readonly outputBudgetBytes?: number;
  /** Extra environment variables; they override `ctx.env` and the plain-text defaults. */
  readonly env?: Record<string, string>;
  /** The bubblewrap binary for sandboxed calls; defaults to `bwrap` on PATH. */
  readonly bwrapPath?: string;
}

/** The outcome of one command, before it is formatted for the model. */
export interface ShellRunResult {
  /** The command's exit code, 128+N for signal N, or 124/126/127/130 as documented. */
  readonly exitCode: number;
  /** The command ran past its timeout and its process group was killed. */
  readonly timedOut: boolean;
  /** The activity was cancelled and the process group was killed. */
  readonly aborted: boolean;
  /** Wall time from the call to the end of output collection. */
  readonly durationMs: number;
  /** Truncated output body, with any timeout/abort/start-failure note first; no header. */
  readonly output: string;
  /** Lines the command printed in total, including the omitted ones. */
  readonly totalLines: number;
  /** True when the middle of the output was replaced by the omission marker. */
  readonly truncated: boolean;
}

/**
 * Runs one command in its own process group and collects its interleaved output within
 * the byte budget. Never throws for the command's own failures: a missing workdir or
 * executable (127), a non-executable file (126), a timeout (124, output prefixed with
 * `command timed out after <ms> milliseconds`) and cancellation through `ctx.signal`
 * (130, `command aborted`) all come back as results. Returns within about 250 ms of the
 * direct child exiting even if a background descendant keeps the pipes open; that
 * descendant's group is then killed. Heartbeats `{ elapsedMs, bytes }` while it runs.
 * With `ctx.sandbox` set, the command runs inside bubblewrap; a bwrap that cannot be
 * started gives exit code 126 and the message of a `SandboxUnavailableError`, and the
 * command does not run. The escalation fields of `args` are ignored here: whether a call
 * runs unsandboxed is the caller's decision, expressed by `ctx.sandbox`.
 */
export async function runShellCommand(
  args: ShellArgs,
  ctx: ToolContext,
  options: ShellRunOptions = {},
): Promise<ShellRunResult> {
  const startedAt = Date.now();
  const elapsed = (): number => Date.now() - startedAt;
  const cwd = path.resolve(ctx.cwd, args.workdir ?? '.');
  const workdirProblem = await describeWorkdirProblem(cwd);
  if (workdirProblem !== undefined) {
    return noteOnlyResult(EXIT_CODE.notFound, `failed to start command: ${workdirProblem}`, elapsed());
  }
  if (ctx.signal.aborted) return { ...noteOnlyResult(EXIT_CODE.aborted, 'command aborted', elapsed()), aborted: true };

  const requestedTimeoutMs = args.timeout_ms ?? DEFAULT_SHELL_TIMEOUT_MS;
  const timeoutMs = clampShellTimeout(requestedTimeoutMs);
  const clampNote =
    timeoutMs === requestedTimeoutMs ? '' : `timeout_ms ${requestedTimeoutMs} is above the maximum of ${MAX_SHELL_TIMEOUT_MS} (24 hours); using ${timeoutMs}\n`;
  const sandbox = ctx.sandbox ?? null;
  const bwrapPath = options.bwrapPath ?? DEFAULT_BWRAP;
  const command = toArgv(args.command);
  const [file, ...argv] = sandbox === null ? command : sandboxArgv(command, sandbox, { bwrapPath, cwd });
  const collector = new HeadTailCollector(options.outputBudgetBytes ?? DEFAULT_OUTPUT_BUDGET_BYTES);
  const child = spawnInOwnGroup(file, argv, cwd, { ...ctx.env, ...NON_INTERACTIVE_ENV, ...options.env });
  const outcome = await superviseChild(child, ctx, timeoutMs, collector, elapsed);
  if (outcome.end.kind === 'spawn-failed') {
    const { error } = outcome.end;
    // A command line too long for the kernel is the command's problem, not bwrap's.
    if (sandbox !== null && error.code !== 'E2BIG') {
      return noteOnlyResult(EXIT_CODE.notExecutable, clampNote + sandboxUnavailable(sandbox, bwrapPath, error).message, elapsed());
    }
    return noteOnlyResult(spawnFailureExitCode(error), clampNote + describeSpawnFailure(command[0], error), elapsed());
  }

  const collected = collector.finish();
  return {
    exitCode: exitCodeOf(outcome.end, outcome),
    timedOut: outcome.timedOut,
    aborted: outcome.aborted,
    durationMs: elapsed(),
    output: clampNote + outcomeNote(outcome, timeoutMs) + collected.text,
    totalLines: collected.totalLines,
    truncated: collected.truncated,
  };
}

/**
 * The timeout a command runs with: `requestedMs`, but at most {@link MAX_SHELL_TIMEOUT_MS}
 * (beyond about 24.8 days Node's timers fire at once, which killed such commands
 * immediately). Pure; expects a positive integer, as the schema guarantees.
 */
export function clampShellTimeout(requestedMs: number): number {
  return Math.min(requestedMs, MAX_SHELL_TIMEOUT_MS);
}

/**
 * Renders a {@link ShellRunResult} as the text the model sees, in the Codex layout:
 * `Exit code`, `Wall time` in seconds with one decimal, `Total output lines` only when the
 * output was truncated, then `Output:` and the body. Pure; never throws.
 */
export function formatShellOutput(result: ShellRunResult): string {
  const lines = [`Exit code: ${result.exitCode}`, `Wall time: ${(result.durationMs / 1000).toFixed(1)} seconds`];
  if (result.truncated) lines.push(`Total output lines: ${result.totalLines}`);
  lines.push('Output:', result.output);
  return lines.join('\n');
}

/**
 * A one-line, copy-pasteable rendering of a command for logs and UIs: argv elements are
 * joined with spaces and single-quoted when they contain anything a shell would
 * interpret; a string command is returned as it is. Pure; never throws.
 */
export function displayCommand(command: string[] | string): string {
  return typeof command === 'string' ? command : command.map(shellQuote).join(' ');
}

const DESCRIPTION = [
  'Runs a shell command and returns its output.',
  '- `command` is either an argv array, executed directly without a shell (e.g. ["cat", "README.md"]), ' +
    'or a string, run with `bash -c` (use a string for pipes, redirects, globs and `&&`).',
  '- Always set `workdir` rather than using `cd`; it is relative to the workspace root.',
  '- The command gets no stdin and no terminal: do not start interactive programs, editors or pagers; ' +
    'pass non-interactive flags (e.g. `--yes`, `--no-pager`).',
  '- stdout and stderr are returned interleaved. Output longer than about 10 KiB keeps only its start and end; ' +
    'prefer targeted commands (`rg`, `sed -n 1,80p`, `head`) over printing whole files.',
  `- \`timeout_ms\` defaults to ${DEFAULT_SHELL_TIMEOUT_MS}; raise it for builds and test suites. ` +
    'A command that times out is killed together with every process it started (exit code 124).',
].join('\n');

/**
 * The `shell` tool. Its result's `success` is `exitCode === 0`; every command failure
 * (non-zero exit, timeout, missing executable or workdir) is reported to the model in
 * `output` rather than thrown. Metadata: `{ exitCode, durationMs, timedOut, truncated,
 * command }`, where `command` is the display form clipped to 500 characters. A command
 * runs at most once (a crash mid-command is reported as interrupted, never re-run);
 * commands not known to be read-only may change files and need approval under
 * `untrusted`. Without `timeout_ms`, `options.shellTimeoutMs` (the thread's) applies.
 */
export const shellTool = defineTool<ShellArgs>({
  name: 'shell',
  spec: () => functionSpec('shell', DESCRIPTION, ShellArgs),
  // Threads with Codex's unified exec get exec_command/write_stdin instead.
  offered: (context) => !usesUnifiedExec(context.model, context.commandTool),
  parameters: ShellArgs,
  parallelSafe: false,
  sideEffects: 'at-most-once',
  describe(args, options) {
    const argv = Array.isArray(args.command) ? args.command : ['bash', '-c', args.command];
    return {
      summary: `shell: ${displayCommand(args.command)}`,
      timeoutMs: clampShellTimeout(args.timeout_ms ?? options.shellTimeoutMs),
      ...commandFacts(argv, { escalate: args.with_escalated_permissions === true, justification: args.justification }, options),
    };
  },
  display: {
    kinds: [commandExecutionKind],
    started: (call, id) => ({ id, type: 'command_execution', command: call.summary.replace(/^shell: /, ''), aggregated_output: '', exit_code: null, status: 'in_progress' }),
    async completed(call, id) {
      // A call that never ran (bad arguments) still closes the item it opened, as failed.
      const meta = call.metadata;
      return [{
        id,
        type: 'command_execution',
        command: typeof meta.command === 'string' ? meta.command : (call.summary?.replace(/^shell: /, '') ?? ''),
        aggregated_output: shellOutputBody(await call.output()),
        exit_code: typeof meta.exitCode === 'number' ? meta.exitCode : null,
        status: call.success ? 'completed' : 'failed',
      }];
    },
  },
  async run(args: ShellArgs, ctx: ToolContext, options?: ToolRunOptions): Promise<ToolResult> {
    const result = await runShellCommand(args.timeout_ms === undefined && options ? { ...args, timeout_ms: options.shellTimeoutMs } : args, ctx);
    return {
      output: formatShellOutput(result),
      success: result.exitCode === 0,
      metadata: {
        exitCode: result.exitCode,
        durationMs: result.durationMs,
        timedOut: result.timedOut,
        truncated: result.truncated,
        command: clip(displayCommand(args.command), MAX_DISPLAY_COMMAND_CHARS),
      },
    };
  },
});

/** The command's output without the "Exit code / Wall time" header the model sees. */
export function shellOutputBody(text: string): string {
  const marker = '\nOutput:\n';
  const at = text.indexOf(marker);
  return at >= 0 ? text.slice(at + marker.length) : text;
}

// ---------------------------------------------------------------------------------------
// Process supervision

type ChildEnd =
  | { readonly kind: 'exited'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  | { readonly kind: 'spawn-failed'; readonly error: NodeJS.ErrnoException };

interface Outcome {
  readonly end: ChildEnd;
  readonly timedOut: boolean;
  readonly aborted: boolean;
}

/**
 * Starts the command with no stdin, stdout+stderr merged, leading a new process group,
 * with exactly `env` as its environment (never the worker's: that holds API keys). It is
 * started by execa in the process launcher (./launcher.ts), not by a fork of the worker.
 */
function spawnInOwnGroup(file: string, argv: string[], cwd: string, env: Record<string, string>): LaunchedProcess {
  // A new process group, so one kill(-pid) reaches everything the command started.
  return launch(file, argv, { cwd, env, detached: true, stdin: 'ignore' });
}

type ShellChild = LaunchedProcess;

/**
 * Streams the child's output into the collector and waits for it to end, enforcing the
 * timeout and cancellation and heartbeating meanwhile. Resolves once the direct child has
 * exited and its pipes are closed or their grace period is over; the streams are
 * destroyed on the way out so nothing keeps reading afterwards.
 */
async function superviseChild(
  child: ShellChild,
  ctx: ToolContext,
  timeoutMs: number,
  collector: HeadTailCollector,
  elapsed: () => number,
): Promise<Outcome> {
  let timedOut = false;
  let aborted = false;
  // The pid arrives with 'spawn': a kill asked for before that happens then.
  let killAsked = false;
  const killGroup = (): void => {
    killAsked = true;
    killProcessGroup(child.pid);
  };
  child.once('spawn', () => {
    if (killAsked) killProcessGroup(child.pid);
  });
  const output = child.all;
  output.on('data', (chunk: Uint8Array) => collector.push(chunk));
  const outputClosed = new Promise<void>((resolve) => output.once('close', resolve));
  const onAbort = (): void => {
    aborted = true;
    killGroup();
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const heartbeat = setInterval(() => safeHeartbeat(ctx, { elapsedMs: elapsed(), bytes: collector.bytesSeen }), HEARTBEAT_INTERVAL_MS);
  try {
    const end = await waitForChildEnd(child);
    // The verdict is taken at exit; what remains is bounded by the pipe grace period.
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
    if (end.kind === 'exited') await drainPipes(outputClosed, killGroup);
    return { end, timedOut, aborted };
  } finally {
    clearTimeout(timer);
    clearInterval(heartbeat);
    ctx.signal.removeEventListener('abort', onAbort);
    output.destroy();
    child.stdout.destroy();
    child.stderr.destroy();
  }
}

function waitForChildEnd(child: ShellChild): Promise<ChildEnd> {
  return new Promise((resolve) => {
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => resolve({ kind: 'exited', code, signal }));
    // Spawn failures (ENOENT, EACCES, E2BIG) come as 'error' without any 'exit'.
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ kind: 'spawn-failed', error: spawnErrorOf(error) }));
  });
}

/**
 * Waits for the output to close, but not for long: a background descendant that
 * inherited stdout would otherwise keep the call open forever. If the grace period runs
 * out, the group is killed so that descendant does not linger unseen.
 */
async function drainPipes(outputClosed: Promise<void>, killGroup: () => void): Promise<void> {
  let graceTimer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'grace-over'>((resolve) => {
    graceTimer = setTimeout(() => resolve('grace-over'), PIPE_GRACE_MS);
  });
  const first = await Promise.race([outputClosed.then(() => 'closed' as const), graceOver]);
  clearTimeout(graceTimer);
  if (first === 'grace-over') killGroup();
}

function killProcessGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone. Nothing else is actionable from a timer callback,
    // and throwing there would take the whole worker down.
  }
}

function safeHeartbeat(ctx: ToolContext, details: { elapsedMs: number; bytes: number }): void {
  try {
    ctx.heartbeat(details);
  } catch {
    // Liveness reporting must never break supervision of a running command.
  }
}

// ---------------------------------------------------------------------------------------
// Small pure helpers

function toArgv(command: string[] | string): [string, ...string[]] {
  if (typeof command === 'string') return ['bash', '-c', command];
  const [file, ...rest] = command;
  return [file, ...rest];
}

async function describeWorkdirProblem(dir: string): Promise<string | undefined> {
  try {
    const info = await stat(dir);
    return info.isDirectory() ? undefined : `workdir ${dir} is not a directory`;
  } catch {
    return `workdir ${dir} does not exist`;
  }
}

function noteOnlyResult(exitCode: number, note: string, durationMs: number): ShellRunResult {
  return { exitCode, timedOut: false, aborted: false, durationMs, output: note, totalLines: 1, truncated: false };
}

function exitCodeOf(end: Extract<ChildEnd, { kind: 'exited' }>, outcome: Outcome): number {
  if (outcome.timedOut) return EXIT_CODE.timedOut;
  if (outcome.aborted) return EXIT_CODE.aborted;
  if (end.code !== null) return end.code;
  return 128 + (end.signal === null ? 0 : (osConstants.signals[end.signal] ?? 0));
}

function outcomeNote(outcome: Outcome, timeoutMs: number): string {
  if (outcome.timedOut) return `command timed out after ${timeoutMs} milliseconds\n`;
  if (outcome.aborted) return 'command aborted\n';
  return '';
}

function spawnErrorOf(cause: unknown): NodeJS.ErrnoException {
  // Duck-typed rather than `instanceof Error`: the error may come from another realm.
  if (typeof cause === 'object' && cause !== null && typeof (cause as Error).message === 'string') return cause as NodeJS.ErrnoException;
  return new Error(`the command could not be started: ${String(cause)}`);
}

function spawnFailureExitCode(error: NodeJS.ErrnoException): number {
  return error.code === 'EACCES' || error.code === 'E2BIG' ? EXIT_CODE.notExecutable : EXIT_CODE.notFound;
}

function describeSpawnFailure(file: string, error: NodeJS.ErrnoException): string {
  const reasons: Record<string, string> = {
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    E2BIG:
      'Argument list too long (the system limits one argument to 128 KiB and the whole command line to about 2 MiB; ' +
      'write long content to a file with apply_patch and have the command read it)',
  };
  const reason = (error.code !== undefined ? reasons[error.code] : undefined) ?? error.message;
  return `failed to start command: ${file}: ${reason}`;
}

function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}
