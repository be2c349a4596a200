/**
 * Which queue each activity of a workflow was scheduled on and which worker ran it, as
 * Temporal recorded them (ActivityTaskScheduled's task queue, ActivityTaskStarted's
 * identity: the worker that ran the attempt that closed the activity).
 */
import type { Client } from '@temporalio/client';

/** One activity of a workflow's history. */
export interface ActivityRun {
  readonly type: string;
  readonly taskQueue: string;
  /** The identity of the worker that started its last attempt; null while none has. */
  readonly identity: string | null;
}

/** The activities of workflow `workflowId` (its latest run), in scheduling order. */
export async function activityRuns(client: Client, workflowId: string): Promise<ActivityRun[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const runs = new Map<string, { type: string; taskQueue: string; identity: string | null }>();
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) runs.set(String(event.eventId), { type: scheduled.activityType?.name ?? '', taskQueue: scheduled.taskQueue?.name ?? '', identity: null });
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const run = runs.get(String(started.scheduledEventId));
      if (run) run.identity = started.identity ?? null;
    }
  }
  return [...runs.values()];
}

/** The host id in an Unroll worker identity (`<pid>@<hostname> host:<id>`), or null. */
export function hostOfIdentity(identity: string | null): string | null {
  return / host:([^\s]+)$/.exec(identity ?? '')?.[1] ?? null;
}
