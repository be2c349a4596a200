/**
 * The CLI commands of a person intervening in a running thread: `pending`, `approve`,
 * `deny`, `interrupt`, `send`. They need a worker serving the thread's task queue (the
 * `unroll exec` that started it, `unroll resume`, or `unroll worker`); without one the
 * request would wait, so they give up after a while with a message saying so.
 */
import type { Client } from '@temporalio/client';
import type { PendingApproval } from '../workflows/definitions';
import { DebugContext, DebugUsageError, guarded, withContext, type DebugIo } from './debug-command';
import { checkPromptSize } from './prompt-limit';
import { answerApproval, interruptTurn, NoRunningTurnError, pendingApprovals, sendInput } from './intervene';

/** How long to wait for a worker to take a request before saying none is running (UNROLL_WORKER_WAIT_MS). */
const DEFAULT_WORKER_WAIT_MS = 20_000;
let workerWaitMs = DEFAULT_WORKER_WAIT_MS;

async function withDeadline<T>(work: Promise<T>, threadId: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DebugUsageError(`no worker answered for thread ${threadId} within ${workerWaitMs / 1000} s: is \`unroll exec\`, \`unroll resume ${threadId}\` or \`unroll worker\` running?`)),
      workerWaitMs,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function run(io: DebugIo, flags: { temporalAddress?: string }, body: (client: Client) => Promise<number>): Promise<number> {
  const configured = Number(io.env.UNROLL_WORKER_WAIT_MS);
  workerWaitMs = Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_WORKER_WAIT_MS;
  return guarded(io, async () => {
    try {
      const context = DebugContext.open(io, flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {});
      return await withContext(context, async (ctx) => body((await ctx.runtime()).client));
    } catch (err) {
      if (err instanceof NoRunningTurnError) throw new DebugUsageError(err.message);
      throw err;
    }
  });
}

function describePending(threadId: string, p: PendingApproval): string {
  const why = p.justification ? ` (justification: ${p.justification})` : '';
  return `${threadId}  ${p.callId}  step ${p.step}  ${p.summary}\n    needs approval: ${p.reason}${why}`;
}

/** `unroll pending [thread]`: what waits for approval. */
export function pendingCommand(threadId: string | undefined, flags: { json?: boolean; temporalAddress?: string }, io: DebugIo): Promise<number> {
  return run(io, flags, async (client) => {
    const threads = threadId ? [threadId] : await runningThreads(client);
    const rows: Array<{ threadId: string; pending: PendingApproval }> = [];
    for (const id of threads) {
      for (const pending of await withDeadline(pendingApprovals(client, id), id)) rows.push({ threadId: id, pending });
    }
    if (flags.json) io.out.write(`${JSON.stringify(rows.map((r) => ({ thread_id: r.threadId, ...r.pending })))}\n`);
    else if (rows.length === 0) io.out.write('nothing waits for approval\n');
    else for (const row of rows) io.out.write(`${describePending(row.threadId, row.pending)}\n`);
    return 0;
  });
}

async function runningThreads(client: Client): Promise<string[]> {
  const ids: string[] = [];
  for await (const info of client.workflow.list({ query: `WorkflowType = 'SessionWorkflow' AND ExecutionStatus = 'Running'` })) ids.push(info.workflowId);
  return ids;
}

/** `unroll approve <thread> [callId] [--for-session]`. */
export function approveCommand(threadId: string, callId: string | undefined, flags: { forSession?: boolean; temporalAddress?: string }, io: DebugIo): Promise<number> {
  return run(io, flags, async (client) => {
    const answer = await withDeadline(answerApproval(client, threadId, flags.forSession ? 'approve-for-session' : 'approve', callId), threadId);
    io.out.write(`approved ${answer.callId}${flags.forSession ? ' (and the same again for this thread)' : ''}\n`);
    return 0;
  });
}

/** `unroll deny <thread> [callId] [--abort]`. */
export function denyCommand(threadId: string, callId: string | undefined, flags: { abort?: boolean; temporalAddress?: string }, io: DebugIo): Promise<number> {
  return run(io, flags, async (client) => {
    const answer = await withDeadline(answerApproval(client, threadId, flags.abort ? 'abort' : 'deny', callId), threadId);
    io.out.write(flags.abort ? `denied ${answer.callId} and aborted the turn\n` : `denied ${answer.callId}\n`);
    return 0;
  });
}

/** `unroll interrupt <thread>`. */
export function interruptCommand(threadId: string, flags: { temporalAddress?: string }, io: DebugIo): Promise<number> {
  return run(io, flags, async (client) => {
    const turnId = await withDeadline(interruptTurn(client, threadId), threadId);
    io.out.write(`interrupt sent to ${turnId}\n`);
    return 0;
  });
}

/** `unroll send <thread> <message…>`. */
export function sendCommand(threadId: string, words: string[], flags: { temporalAddress?: string }, io: DebugIo): Promise<number> {
  return run(io, flags, async (client) => {
    const text = words.join(' ');
    if (text.trim() === '') throw new DebugUsageError('the message is empty');
    checkPromptSize(text, 'message');
    const result = await withDeadline(sendInput(client, threadId, text), threadId);
    io.out.write(result.delivered === 'running-turn'
      ? `queued for turn ${result.turn}: it reaches the model before its next request\n`
      : `no turn was running: the message started turn ${result.turn}\n`);
    return 0;
  });
}
