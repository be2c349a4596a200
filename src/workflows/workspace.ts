/**
 * Where a thread's activities run (src/shared/hosts.ts): the activities that read the
 * workspace go to the pinned host's queue, inference and compaction stay on the shared
 * queue (the workflow's own). A thread without a pin (recorded before pins existed) runs
 * everything as it did: its tools on its recorded `toolTaskQueue`, the rest on the
 * workflow's queue, and its compaction reads the workspace itself. The choice depends on
 * the recorded settings only, so recorded histories replay unchanged.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities, CompactInput, CompactResult } from '../activities';
import type { SessionSettings } from '../config/settings';
import { compactionOptions, storeOptions } from './activity-options';

/** Options of a workspace store activity (beginTurn, readWorkspaceContext): the pinned host's queue, if any. */
export function workspaceStoreOptions(settings: SessionSettings): ActivityOptions {
  return { ...storeOptions(settings.timings), ...(settings.host ? { taskQueue: settings.host.taskQueue } : {}) };
}

/**
 * Compacts the transcript. For a pinned thread the fresh initial context (AGENTS.md,
 * environment) is read on the pinned host first, stored, and passed by reference to the
 * compaction itself, which then runs on the shared queue, on any worker.
 */
export async function compactOnSharedQueue(input: Omit<CompactInput, 'fresh'>, summary: string): Promise<CompactResult> {
  const { settings } = input;
  let fresh: CompactInput['fresh'];
  if (settings.host) {
    const options = workspaceStoreOptions(settings);
    const host = proxyActivities<Activities>(options);
    fresh = await host.readWorkspaceContext.executeWithOptions({ ...options, summary: `${summary}: workspace context on host ${settings.host.id}` }, [
      { threadId: input.threadId, settings },
    ]);
  }
  const options = compactionOptions(settings.timings);
  const compactor = proxyActivities<Activities>(options);
  return compactor.compactTranscript.executeWithOptions({ ...options, summary }, [{ ...input, ...(fresh ? { fresh } : {}) }]);
}
