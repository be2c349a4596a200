/**
 * The `exec_command` tool (Codex 0.171's unified exec): runs `cmd` with a shell in a PTY
 * and waits up to `yield_time_ms` for it. A command that ends in time reports its exit
 * code; one still running keeps running as a session on this host (./sessions.ts), which
 * `write_stdin` (./write-stdin.ts) writes to and polls. Spec, parameters and output text
 * are Codex's (test/fixtures/codex-0.171/unified-exec-specs.json, ./format.ts).
 *
 * Like `shell`: the command runs as `<shell> -lc <cmd>` (`-c` with `login: false`) inside
 * the thread's sandbox (./../sandbox.ts) with the thread's environment, it is judged by
 * the approval policy on that argv, and it runs at most once: a crash retry reports it as
 * interrupted (src/activities/tools.ts). The session is noted in the store with the
 * worker that holds it, so a later `write_stdin` after that worker stopped is told the
 * session is gone.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { usesUnifiedExec } from './choice';
import { defineTool, type ToolSpec } from '../contract';
import { commandExecutionKind } from '../display';
import { commandFacts } from '../command-facts';
import { DEFAULT_BWRAP, sandboxArgv, sandboxUnavailable } from '../sandbox';
import { displayCommand } from '../shell';
import type { ToolContext, ToolResult } from '../types';
import { DEFAULT_MAX_OUTPUT_TOKENS, execChunkBody, formatExecChunk } from './format';
import { hostExecSessions, type ExecSession } from './sessions';
import { sessionMarkerKey } from './session-markers';

/** `yield_time_ms` when the model gives none, and its range (Codex's). */
export const EXEC_YIELD = { defaultMs: 10_000, minMs: 250, maxMs: 30_000 } as const;
/** The shell a command runs with when the model names none. */
export const DEFAULT_EXEC_SHELL = '/bin/bash';
/** How a call's summary starts (the command's display form follows). */
const SUMMARY_PREFIX = 'exec_command: ';
/** Heartbeats while a call waits for its command. */
const HEARTBEAT_INTERVAL_MS = 500;
/** Beyond the yield time, how long the activity may take (start-up, store writes). */
const ACTIVITY_MARGIN_MS = 60_000;

/** Set for every command on top of the tool environment, as for `shell`. */
export const EXEC_ENV: Readonly<Record<string, string>> = { NO_COLOR: '1', TERM: 'dumb', PAGER: 'cat', GIT_PAGER: 'cat' };

/** Arguments of `exec_command` (the parse of a call; the spec sent is Codex's own, below). */
export const ExecCommandArgs = z.object({
  cmd: z.string().min(1),
  workdir: z.string().optional(),
  shell: z.string().min(1).optional(),
  login: z.boolean().optional(),
  tty: z.boolean().optional(),
  yield_time_ms: z.number().nonnegative().optional(),
  max_output_tokens: z.number().int().positive().optional(),
  sandbox_permissions: z.enum(['use_default', 'require_escalated']).optional(),
  /** The older Codex name of `sandbox_permissions: "require_escalated"`. */
  with_escalated_permissions: z.boolean().optional(),
  justification: z.string().optional(),
  prefix_rule: z.array(z.string()).optional(),
});
/** Parsed arguments of `exec_command`. */
export type ExecCommandArgs = z.infer<typeof ExecCommandArgs>;

/** Codex 0.171's `exec_command` spec, byte for byte as it sends it. */
export const EXEC_COMMAND_SPEC: ToolSpec = {
  type: 'function',
  name: 'exec_command',
  description: 'Runs a command in a PTY, returning output or a session ID for ongoing interaction.',
  strict: false,
  parameters: {
    type: 'object',
    properties: {
      cmd: { type: 'string', description: 'Shell command to execute.' },
      justification: { type: 'string', description: 'User-facing approval question for `require_escalated`; omit otherwise.' },
      login: { type: 'boolean', description: 'Request login-shell startup. Omit to inherit.' },
      max_output_tokens: { type: 'number', description: 'Output token budget. Defaults to 10000 tokens; larger requests may be capped by policy.' },
      prefix_rule: {
        type: 'array',
        description: 'Reusable approval prefix for `cmd`, only with `sandbox_permissions: "require_escalated"`; for example ["git", "pull"].',
        items: { type: 'string' },
      },
      sandbox_permissions: {
        type: 'string',
        description: 'Per-command sandbox override. Defaults to `use_default`; use `require_escalated` for unsandboxed execution.',
        enum: ['use_default', 'require_escalated'],
      },
      shell: { type: 'string', description: "Shell binary to launch. Defaults to the user's default shell." },
      tty: { type: 'boolean', description: 'True allocates a PTY for the command; false or omitted uses plain pipes.' },
      workdir: { type: 'string', description: 'Working directory for the command. Defaults to the turn cwd.' },
      yield_time_ms: { type: 'number', description: 'Wait before yielding output. Defaults to 10000 ms; effective range is 250-30000 ms.' },
    },
    required: ['cmd'],
    additionalProperties: false,
  },
};

/** The argv a call runs (before the sandbox): `<shell> -lc <cmd>`, or `-c` when `login` is false. */
export function execArgv(args: Pick<ExecCommandArgs, 'cmd' | 'shell' | 'login'>): [string, ...string[]] {
  return [args.shell ?? DEFAULT_EXEC_SHELL, args.login === false ? '-c' : '-lc', args.cmd];
}

/** `ms` within [min, max]. */
export function clampMs(ms: number, range: { minMs: number; maxMs: number }): number {
  return Math.min(range.maxMs, Math.max(range.minMs, Math.round(ms)));
}

/** A fresh Codex-style chunk id (six hex digits). */
export function newChunkId(): string {
  return randomBytes(3).toString('hex');
}

/**
 * Waits on a session for `ms` (heartbeating), then formats what it said. Releases a
 * session whose command has ended; kills it when the activity is cancelled.
 */
export async function yieldChunk(session: ExecSession, ms: number, maxOutputTokens: number, ctx: ToolContext, startedAt: number): Promise<ToolResult> {
  const beat = setInterval(() => {
    try {
      ctx.heartbeat({ sessionId: session.id });
    } catch {
      // Liveness reporting must never break the wait.
    }
  }, HEARTBEAT_INTERVAL_MS);
  let chunk;
  try {
    chunk = await session.waitAndRead(ms, ctx.signal);
  } finally {
    clearInterval(beat);
  }
  if (ctx.signal.aborted && chunk.exitCode === null) {
    session.kill();
    hostExecSessions().release(session);
    return { output: 'command aborted', success: false, metadata: { sessionId: session.id, aborted: true } };
  }
  if (chunk.exitCode !== null) hostExecSessions().release(session);
  const dropped = chunk.droppedBytes > 0 ? `[${chunk.droppedBytes} earlier bytes of output were dropped]\n` : '';
  const wallTimeMs = Date.now() - startedAt;
  const output = formatExecChunk({ chunkId: newChunkId(), wallTimeMs, exitCode: chunk.exitCode, sessionId: session.id, output: dropped + chunk.output, maxOutputTokens });
  return {
    output,
    success: chunk.exitCode === null || chunk.exitCode === 0,
    metadata: { sessionId: session.id, running: chunk.exitCode === null, exitCode: chunk.exitCode, durationMs: wallTimeMs },
  };
}

function failure(message: string, extra: Record<string, unknown> = {}): ToolResult {
  return { output: message, success: false, metadata: { error: message, ...extra } };
}

/** `exec_command`; see the module comment. */
export const execCommandTool = defineTool<ExecCommandArgs>({
  name: 'exec_command',
  spec: () => EXEC_COMMAND_SPEC,
  offered: (context) => usesUnifiedExec(context.model, context.commandTool),
  parameters: ExecCommandArgs,
  parallelSafe: false,
  sideEffects: 'at-most-once',
  describe(args, options) {
    const argv = execArgv(args);
    const escalate = args.sandbox_permissions === 'require_escalated' || args.with_escalated_permissions === true;
    return {
      summary: `${SUMMARY_PREFIX}${displayCommand(argv)}`,
      timeoutMs: clampMs(args.yield_time_ms ?? EXEC_YIELD.defaultMs, EXEC_YIELD) + ACTIVITY_MARGIN_MS,
      ...commandFacts(argv, { escalate, justification: args.justification }, options),
    };
  },
  display: {
    kinds: [commandExecutionKind],
    // A call whose arguments do not parse never runs and, as in Codex, shows no item.
    started: (call, id) =>
      call.summary.startsWith(SUMMARY_PREFIX) ? { id, type: 'command_execution', command: call.summary.slice(SUMMARY_PREFIX.length), aggregated_output: '', exit_code: null, status: 'in_progress' } : null,
    async completed(call, id) {
      const meta = call.metadata;
      if (!call.summary?.startsWith(SUMMARY_PREFIX)) return [];
      // Codex leaves the item of a command that outlives its call open (it never completes it).
      if (meta.running === true) return [];
      return [{
        id,
        type: 'command_execution',
        command: call.summary.slice(SUMMARY_PREFIX.length),
        aggregated_output: typeof meta.exitCode === 'number' ? execChunkBody(await call.output()) : '',
        exit_code: typeof meta.exitCode === 'number' ? meta.exitCode : null,
        status: call.success ? 'completed' : 'failed',
      }];
    },
  },
  async run(args, ctx) {
    const startedAt = Date.now();
    const cwd = path.resolve(ctx.cwd, args.workdir ?? '.');
    const problem = await workdirProblem(cwd);
    if (problem) return failure(`exec_command failed: ${problem}`, { exitCode: 127 });
    if (ctx.signal.aborted) return failure('command aborted', { aborted: true });
    const command = execArgv(args);
    const sandbox = ctx.sandbox ?? null;
    const argv = sandbox === null ? command : (sandboxArgv(command, sandbox, { bwrapPath: DEFAULT_BWRAP, cwd }) as [string, ...string[]]);
    const threadId = ctx.threadId ?? `call:${ctx.callId}`;
    let session: ExecSession;
    try {
      session = hostExecSessions().start({ threadId, turn: ctx.turn ?? 0, argv, cwd, env: { ...ctx.env, ...EXEC_ENV }, tty: args.tty === true });
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      const message = sandbox !== null ? sandboxUnavailable(sandbox, DEFAULT_BWRAP, error).message : `failed to start ${command[0]}: ${error.message}`;
      return failure(`exec_command failed: ${message}`, { exitCode: 127 });
    }
    const yieldMs = clampMs(args.yield_time_ms ?? EXEC_YIELD.defaultMs, EXEC_YIELD);
    const result = await yieldChunk(session, yieldMs, args.max_output_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS, ctx, startedAt);
    // The model learns a session id only for a command still running: only then does a
    // later write_stdin need the note that says which worker holds it (a command that
    // ended, the usual case, costs no store write).
    if (result.metadata?.running === true) {
      try {
        await ctx.markers?.put(sessionMarkerKey(threadId, session.id), JSON.stringify({ host: hostExecSessions().incarnation, turn: ctx.turn ?? 0 }));
      } catch (err) {
        session.kill();
        hostExecSessions().release(session);
        throw err;
      }
    }
    return { ...result, metadata: { ...result.metadata, command: displayCommand(command) } };
  },
});

async function workdirProblem(dir: string): Promise<string | undefined> {
  try {
    return (await stat(dir)).isDirectory() ? undefined : `workdir ${dir} is not a directory`;
  } catch {
    return `workdir ${dir} does not exist`;
  }
}
