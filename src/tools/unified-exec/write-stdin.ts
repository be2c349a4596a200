/**
 * The `write_stdin` tool (Codex 0.171): writes `chars` to a running exec session's
 * terminal (or, with no chars, just polls it) and returns what the command printed since
 * the last read, in exec_command's layout (./format.ts).
 *
 * A session this worker does not hold is one of three things, each told plainly and at
 * once (never a wait): one this worker already saw end or ended at its turn's end
 * (Codex's `Unknown process id N`), one started by a worker that has stopped since (its
 * store note names another worker process: "session N is gone: the worker that ran it
 * stopped"), or one that never existed (`Unknown process id N`).
 *
 * Side-effect class `at-most-once`: the chars reach a live program that may act on them
 * (a REPL line, a "y" to a prompt), so a crash retry must not send them twice; it is
 * reported as interrupted. (After a crash the session is gone anyway.) Writes to a
 * session are not judged again by the approval policy: the command was, when it started.
 */
import { z } from 'zod';
import { usesUnifiedExec } from './choice';
import { defineTool, type ToolSpec } from '../contract';
import { commandExecutionKind } from '../display';
import type { ToolContext, ToolResult } from '../types';
import { clampMs, yieldChunk } from './exec-command';
import { DEFAULT_MAX_OUTPUT_TOKENS } from './format';
import { parseSessionNote, sessionMarkerKey } from './session-markers';
import { hostExecSessions } from './sessions';

/** Yield times of write_stdin (Codex's): a write waits 250 ms by default, a poll 5 s; writes at most 30 s, polls 5 s to 5 min. */
export const WRITE_YIELD = { write: { defaultMs: 250, minMs: 250, maxMs: 30_000 }, poll: { defaultMs: 5_000, minMs: 5_000, maxMs: 300_000 } } as const;
const ACTIVITY_MARGIN_MS = 60_000;

/** Arguments of `write_stdin`. */
export const WriteStdinArgs = z.object({
  session_id: z.number().int().nonnegative(),
  chars: z.string().optional(),
  yield_time_ms: z.number().nonnegative().optional(),
  max_output_tokens: z.number().int().positive().optional(),
});
/** Parsed arguments of `write_stdin`. */
export type WriteStdinArgs = z.infer<typeof WriteStdinArgs>;

/** Codex 0.171's `write_stdin` spec, byte for byte. */
export const WRITE_STDIN_SPEC: ToolSpec = {
  type: 'function',
  name: 'write_stdin',
  description: 'Writes characters to an existing unified exec session and returns recent output.',
  strict: false,
  parameters: {
    type: 'object',
    properties: {
      chars: { type: 'string', description: 'Bytes to write to stdin. Defaults to empty, which polls without writing.' },
      max_output_tokens: { type: 'number', description: 'Output token budget. Defaults to 10000 tokens; larger requests may be capped by policy.' },
      session_id: { type: 'number', description: 'Identifier of the running unified exec session.' },
      yield_time_ms: {
        type: 'number',
        description: 'Wait before yielding output. Non-empty writes default to 250 ms and cap at 30000 ms; empty polls wait 5000-300000 ms by default.',
      },
    },
    required: ['session_id'],
    additionalProperties: false,
  },
};

/** How long a call waits for output. */
export function writeYieldMs(args: Pick<WriteStdinArgs, 'chars' | 'yield_time_ms'>): number {
  const range = (args.chars ?? '') === '' ? WRITE_YIELD.poll : WRITE_YIELD.write;
  return clampMs(args.yield_time_ms ?? range.defaultMs, range);
}

/** What the model is told about a session its worker took with it. */
export function sessionGoneMessage(id: number): string {
  return `write_stdin failed: session ${id} is gone: the worker that ran it stopped, and the command with it. Start it again with exec_command if you still need it.`;
}

function failure(message: string, id: number): ToolResult {
  return { output: message, success: false, metadata: { error: message, sessionId: id } };
}

/** `write_stdin`; see the module comment. */
export const writeStdinTool = defineTool<WriteStdinArgs>({
  name: 'write_stdin',
  spec: () => WRITE_STDIN_SPEC,
  offered: (context) => usesUnifiedExec(context.model, context.commandTool),
  parameters: WriteStdinArgs,
  parallelSafe: false,
  sideEffects: 'at-most-once',
  describe(args) {
    const chars = args.chars ?? '';
    return {
      summary: chars === '' ? `write_stdin: poll session ${args.session_id}` : `write_stdin: ${JSON.stringify(chars)} to session ${args.session_id}`,
      timeoutMs: writeYieldMs(args) + ACTIVITY_MARGIN_MS,
      approval: 'safe',
      // Input to a running program may make it write files.
      changesFiles: true,
    };
  },
  // Codex shows nothing for write_stdin in `exec --json`; the session's command item stays as it was.
  display: { kinds: [commandExecutionKind], started: () => null, completed: () => Promise.resolve([]) },
  async run(args, ctx: ToolContext) {
    const startedAt = Date.now();
    const id = args.session_id;
    const threadId = ctx.threadId ?? `call:${ctx.callId}`;
    const session = hostExecSessions().get(threadId, id);
    if (!session) {
      const note = parseSessionNote(await ctx.markers?.get(sessionMarkerKey(threadId, id)));
      if (note && note.host !== hostExecSessions().incarnation) return failure(sessionGoneMessage(id), id);
      return failure(`write_stdin failed: Unknown process id ${id}`, id);
    }
    if ((args.chars ?? '') !== '' && !session.acceptsInput) {
      return failure(`write_stdin failed: session ${id} was started without a terminal (tty: false), so its stdin is closed; poll it with empty chars, or start the command with tty: true to write to it`, id);
    }
    session.write(args.chars ?? '');
    return yieldChunk(session, writeYieldMs(args), args.max_output_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS, ctx, startedAt);
  },
});
