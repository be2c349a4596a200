/**
 * `unroll exec resume --last`: the most recent thread that can take a next turn, as
 * Codex picks its most recent session: newest first, only threads whose workspace is the
 * current directory unless `--all`. "Can take a next turn" means its SessionWorkflow is
 * running on this configuration's task queue (an ended thread, e.g. an `--ephemeral` one,
 * is not resumable). The workspace is read from the session query, which the in-process
 * worker answers; a thread that does not answer in time is skipped.
 */
import type { Client } from '@temporalio/client';
import { sessionQuery } from '../workflows/definitions';

/** No thread qualifies for `--last`. */
export class NoRecentThreadError extends Error {
  override readonly name = 'NoRecentThreadError';
  constructor(readonly cwd: string | null) {
    super(`no thread to resume${cwd !== null ? ` in ${cwd} (--all looks in every directory)` : ''}: start one with \`unroll exec "..."\``);
  }
}

/** How far back `--last` looks, and how long one thread may take to answer. */
const MAX_CANDIDATES = 50;
const QUERY_TIMEOUT_MS = 5_000;

/**
 * The id of the newest running thread on `taskQueue` whose workspace is `cwd` (any
 * workspace when `cwd` is null). Throws {@link NoRecentThreadError}.
 */
export async function lastThreadId(client: Client, options: { taskQueue: string; cwd: string | null }): Promise<string> {
  const escaped = options.taskQueue.replace(/'/g, "\\'");
  const runs: { id: string; start: number }[] = [];
  for await (const info of client.workflow.list({ query: `WorkflowType='SessionWorkflow' AND ExecutionStatus='Running' AND TaskQueue='${escaped}'` })) {
    runs.push({ id: info.workflowId, start: info.startTime.getTime() });
  }
  runs.sort((a, b) => b.start - a.start);
  for (const run of runs.slice(0, MAX_CANDIDATES)) {
    if (options.cwd === null) return run.id;
    try {
      const view = await client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => client.workflow.getHandle(run.id).query(sessionQuery));
      if (view.settings.cwd === options.cwd) return run.id;
    } catch {
      // Not answering (a stuck or incompatible run): not the one to resume.
    }
  }
  throw new NoRecentThreadError(options.cwd);
}
