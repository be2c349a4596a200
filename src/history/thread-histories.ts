/**
 * Every workflow history of a thread: the SessionWorkflow runs (all of them, following
 * continue-as-new back to the first) and every TurnWorkflow it started (again with all
 * their runs). This is, with the transcript store, the complete record of a run; it is
 * what `show`, `replay`, `diff` and `export` read, whether it comes from the server or
 * from a bundle. Histories are returned as the server stores them (encrypted payloads
 * stay encrypted); the client's payload codecs are used only to follow the links
 * between runs. Readers decode them with `decodeThreadHistories` (src/codec).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { decodeHistory } from '../codec/history-codec';
import { sessionWorkflowId } from '../shared/ids';
import { runRecord, type History, type RunRecord } from './history-events';

/** One run of one workflow, with its history. */
export interface RecordedWorkflow {
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  readonly history: History;
}

/** The histories of a thread: session runs oldest first, then each turn's runs in order. */
export interface ThreadHistories {
  readonly threadId: string;
  readonly workflows: readonly RecordedWorkflow[];
}

/** The server has no workflow for this thread id. */
export class ThreadHistoryNotFoundError extends Error {
  override readonly name = 'ThreadHistoryNotFoundError';
  constructor(readonly threadId: string) {
    super(`thread ${threadId} not found on the Temporal server (is the address right? \`unroll threads\` lists known threads)`);
  }
}

/** The workflow named by the thread id is not a SessionWorkflow. */
export class NotASessionError extends Error {
  override readonly name = 'NotASessionError';
  constructor(readonly workflowId: string, readonly workflowType: string) {
    super(`workflow ${workflowId} is a ${workflowType}, not a thread (SessionWorkflow)`);
  }
}

/** A continue-as-new chain longer than any real thread has: a loop in the links. */
const MAX_RUNS = 10_000;

/**
 * Fetches every history of a thread from the server. Throws
 * {@link ThreadHistoryNotFoundError} when the thread does not exist.
 */
export async function fetchThreadHistories(client: Client, threadId: string): Promise<ThreadHistories> {
  const sessionId = sessionWorkflowId(threadId);
  let latest: { runId: string; type: string };
  try {
    const description = await client.workflow.getHandle(sessionId).describe();
    latest = { runId: description.runId, type: description.type };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ThreadHistoryNotFoundError(threadId);
    throw err;
  }
  if (latest.type !== 'SessionWorkflow') throw new NotASessionError(sessionId, latest.type);
  const sessions = await fetchRunsBackwards(client, sessionId, latest.runId);
  const children = new Map<string, string | null>();
  for (const session of sessions) {
    for (const child of session.record.children) {
      if (!children.has(child.workflowId) || child.runId !== null) children.set(child.workflowId, child.runId);
    }
  }
  const turns = await mapLimited([...children.entries()], 4, ([workflowId, runId]) => fetchRunsForwards(client, workflowId, runId));
  return { threadId, workflows: [...sessions, ...turns.flat()].map(({ record: _record, ...run }) => run) };
}

/** A fetched run with its record (read from the decoded history). */
type FetchedRun = RecordedWorkflow & { readonly record: RunRecord };

async function fetchRun(client: Client, workflowId: string, runId: string | undefined): Promise<FetchedRun> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const history = await handle.fetchHistory();
  const actualRunId = runId ?? (await handle.describe()).runId;
  const record = runRecord(await decodeHistory(history, client.options.loadedDataConverter.payloadCodecs, `the history of ${workflowId}`));
  return { workflowId, runId: actualRunId, workflowType: record.workflowType, history, record };
}

/** The run `runId` and every run it continued from, oldest first. */
async function fetchRunsBackwards(client: Client, workflowId: string, runId: string): Promise<FetchedRun[]> {
  const runs: FetchedRun[] = [];
  for (let next: string | null = runId; next !== null && runs.length < MAX_RUNS; ) {
    const run = await fetchRun(client, workflowId, next);
    runs.unshift(run);
    next = run.record.continuedFromRunId;
  }
  return runs;
}

/** The run `runId` (the latest when null) and every run that continued it, oldest first. */
async function fetchRunsForwards(client: Client, workflowId: string, runId: string | null): Promise<FetchedRun[]> {
  if (runId === null) {
    // The child had not started when the session history was read: take what is there.
    try {
      const latest = await fetchRun(client, workflowId, undefined);
      return fetchRunsBackwards(client, workflowId, latest.runId);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return [];
      throw err;
    }
  }
  const runs: FetchedRun[] = [];
  for (let next: string | null = runId; next !== null && runs.length < MAX_RUNS; ) {
    const run = await fetchRun(client, workflowId, next);
    runs.push(run);
    next = run.record.continuedToRunId;
  }
  return runs;
}

/** Maps with at most `limit` calls in flight, keeping the order of `items`. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
