/**
 * `unroll threads [--status S] [--since T] [--limit N] [--json]`: the threads the server
 * knows, newest first, from Temporal visibility (every SessionWorkflow run, grouped by
 * thread: created = the first run's start, status = the latest run's). Turns, tokens and
 * the last message come from the session query when a worker serves the thread, else
 * from the latest run's history; either is one call per listed thread.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { decodeHistory } from '../codec/history-codec';
import type { Usage } from '../items/schemas';
import { summarizeSessionRun, type SessionSummary } from '../history/session-summary';
import { sessionQuery, type ThreadOrigin } from '../workflows/definitions';
import { DebugContext, DebugUsageError, guarded, painterFor, positiveInt, withContext, type DebugIo } from './debug-command';

/** Statuses `--status` accepts (the Temporal execution statuses, in lower case). */
export const THREAD_STATUSES = ['running', 'completed', 'failed', 'terminated', 'cancelled', 'timed-out'] as const;
/** A thread's status: its latest session run's execution status. */
export type ThreadStatus = (typeof THREAD_STATUSES)[number] | 'unknown';

/** One line of `unroll threads`. */
export interface ThreadListing {
  readonly threadId: string;
  readonly createdAt: string;
  readonly status: ThreadStatus;
  /** Session runs (more than one after continue-as-new). */
  readonly runs: number;
  readonly turns: number | null;
  readonly runningTurn: number | null;
  readonly usage: Usage | null;
  readonly lastMessage: string | null;
  readonly origin: ThreadOrigin | null;
  /** The host the thread is pinned to (null: a thread from before pins, or settings unknown). */
  readonly host: string | null;
  /** Where the details came from. */
  readonly details: 'query' | 'history' | 'none';
}

/** Options of {@link listThreads}. */
export interface ListOptions {
  readonly status?: ThreadStatus;
  readonly since?: Date;
  readonly limit: number;
  readonly namespace: string;
  /** How long the session query may take before the history is used instead. */
  readonly queryTimeoutMs?: number;
}

function statusOf(info: WorkflowExecutionInfo): ThreadStatus {
  const name = info.status.name.toLowerCase().replace(/_/g, '-');
  return (THREAD_STATUSES as readonly string[]).includes(name) ? (name as ThreadStatus) : 'unknown';
}

/** Parses `--since`: an ISO date/time or a span back from `now` (`90s`, `30m`, `2h`, `3d`). */
export function parseSince(text: string, now = new Date()): Date {
  const span = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (span) return new Date(now.getTime() - Number(span[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 's' | 'm' | 'h' | 'd']);
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new DebugUsageError(`--since expects an ISO date (2026-11-21, 2026-11-21T08:00Z) or a span like 30m, 2h, 3d; got "${text}"`);
  return date;
}

/** Lists threads newest first; see the module comment. */
export async function listThreads(client: Client, options: ListOptions): Promise<ThreadListing[]> {
  const runs = new Map<string, WorkflowExecutionInfo[]>();
  for await (const info of client.workflow.list({ query: "WorkflowType='SessionWorkflow'" })) {
    runs.set(info.workflowId, [...(runs.get(info.workflowId) ?? []), info]);
  }
  const threads = [...runs.values()].map((all) => {
    const sorted = [...all].sort((x, y) => x.startTime.getTime() - y.startTime.getTime());
    return { first: sorted[0], latest: sorted[sorted.length - 1], count: sorted.length };
  });
  const chosen = threads
    .filter((t) => (options.since ? t.first.startTime >= options.since : true))
    .filter((t) => (options.status ? statusOf(t.latest) === options.status : true))
    .sort((x, y) => y.first.startTime.getTime() - x.first.startTime.getTime())
    .slice(0, options.limit);
  const polled = new Map<string, Promise<boolean>>();
  const hasPoller = (taskQueue: string) => {
    if (!polled.has(taskQueue)) polled.set(taskQueue, workflowPollerPresent(client, options.namespace, taskQueue));
    return polled.get(taskQueue)!;
  };
  return Promise.all(
    chosen.map(async ({ first, latest, count }) => {
      const details = await threadDetails(client, latest, statusOf(latest) === 'running' && (await hasPoller(latest.taskQueue)), options.queryTimeoutMs ?? 3_000);
      return { threadId: latest.workflowId, createdAt: first.startTime.toISOString(), status: statusOf(latest), runs: count, ...details };
    }),
  );
}

async function workflowPollerPresent(client: Client, namespace: string, taskQueue: string): Promise<boolean> {
  try {
    const response = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (response.pollers ?? []).length > 0;
  } catch {
    return false;
  }
}

type Details = Pick<ThreadListing, 'turns' | 'runningTurn' | 'usage' | 'lastMessage' | 'origin' | 'host' | 'details'>;

async function threadDetails(client: Client, latest: WorkflowExecutionInfo, askSession: boolean, timeoutMs: number): Promise<Details> {
  const handle = client.workflow.getHandle(latest.workflowId, latest.runId);
  if (askSession) {
    try {
      const view = await client.withDeadline(Date.now() + timeoutMs, () => handle.query(sessionQuery));
      return {
        turns: view.turns, runningTurn: view.runningTurn, usage: view.usage, lastMessage: view.lastTurn?.lastMessage?.excerpt ?? null, origin: view.origin ?? null,
        host: view.settings.host?.id ?? null, details: 'query',
      };
    } catch {
      // A busy or restarting worker: the history tells the same.
    }
  }
  try {
    const history = await decodeHistory(await handle.fetchHistory(), client.options.loadedDataConverter.payloadCodecs, `the history of ${latest.workflowId}`);
    const summary: SessionSummary = summarizeSessionRun(history);
    return { ...summary, details: 'history' };
  } catch {
    return { turns: null, runningTurn: null, usage: null, lastMessage: null, origin: null, host: null, details: 'none' };
  }
}

function renderListing(threads: readonly ThreadListing[], paint: (code: string, text: string) => string): string[] {
  if (threads.length === 0) return [paint('2', 'no threads (start one with `unroll exec "..."`)')];
  const rows = threads.map((t) => [
    t.threadId,
    t.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    t.status === 'running' && t.runningTurn !== null ? `running (turn ${t.runningTurn})` : t.status,
    t.turns === null ? '?' : String(t.turns),
    t.usage ? String(t.usage.inputTokens + t.usage.outputTokens) : '?',
    t.host ?? '-',
    (t.origin ? `[fork of ${t.origin.threadId} at ${t.origin.turn}.${t.origin.step}] ` : '') + (t.lastMessage ?? '').replace(/\s+/g, ' ').slice(0, 60),
  ]);
  const header = ['THREAD', 'CREATED', 'STATUS', 'TURNS', 'TOKENS', 'HOST', 'LAST MESSAGE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [paint('1', line(header)), ...rows.map(line)];
}

/** Options of `unroll threads`. */
export interface ThreadsFlags {
  readonly status?: string;
  readonly since?: string;
  readonly limit?: string;
  readonly json?: boolean;
  readonly temporalAddress?: string;
}

/** Runs `unroll threads`. */
export function threadsCommand(flags: ThreadsFlags, io: DebugIo): Promise<number> {
  return guarded(io, () =>
    withContext(DebugContext.open(io, flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}), async (ctx) => {
      if (flags.status !== undefined && !(THREAD_STATUSES as readonly string[]).includes(flags.status)) {
        throw new DebugUsageError(`--status expects one of ${THREAD_STATUSES.join(', ')}; got "${flags.status}"`);
      }
      const since = flags.since !== undefined ? parseSince(flags.since) : undefined;
      const limit = positiveInt(flags.limit, '--limit') ?? 50;
      const runtime = await ctx.runtime();
      const threads = await listThreads(runtime.client, {
        limit,
        namespace: ctx.config.temporal.namespace,
        ...(flags.status ? { status: flags.status as ThreadStatus } : {}),
        ...(since ? { since } : {}),
      });
      if (flags.json) io.out.write(`${JSON.stringify(threads, null, 2)}\n`);
      else io.out.write(`${renderListing(threads, painterFor(io.out, io.env)).join('\n')}\n`);
      return 0;
    }),
  );
}
