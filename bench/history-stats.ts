/**
 * Reading the cost of a workflow in Temporal history: every run of a workflow id
 * (continue-as-new chains included), bytes per event, payload sizes, and attribution
 * of events to agent steps (the step of the latest `runInference` scheduled before
 * them). Shared by the benchmarks.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** One run of a workflow with its history. */
export interface RunHistory {
  readonly runId: string;
  readonly events: HistoryEvent[];
  readonly bytes: number;
}

/** Every run of `workflowId`, oldest first, with its full history. */
export async function fetchRuns(client: Client, workflowId: string): Promise<RunHistory[]> {
  const runs: { runId: string; start: number }[] = [];
  for await (const info of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push({ runId: info.runId, start: info.startTime.getTime() });
  }
  runs.sort((a, b) => a.start - b.start);
  const result: RunHistory[] = [];
  for (const { runId } of runs) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const bytes = temporal.api.history.v1.History.encode(history).finish().length;
    result.push({ runId, events: history.events ?? [], bytes });
  }
  return result;
}

/** Bytes of one payload list (data plus metadata). */
export function payloadBytes(payloads: Payloads): number {
  return (payloads?.payloads ?? []).reduce(
    (sum, p) => sum + (p.data?.length ?? 0) + Object.values(p.metadata ?? {}).reduce((m, v) => m + v.length, 0),
    0,
  );
}

/** Sizes of every payload an event carries (inputs, results, failures' details). */
export function eventPayloadSizes(event: HistoryEvent): number[] {
  const lists: Payloads[] = [
    event.workflowExecutionStartedEventAttributes?.input,
    event.workflowExecutionCompletedEventAttributes?.result,
    event.workflowExecutionContinuedAsNewEventAttributes?.input,
    event.activityTaskScheduledEventAttributes?.input,
    event.activityTaskCompletedEventAttributes?.result,
    event.startChildWorkflowExecutionInitiatedEventAttributes?.input,
    event.childWorkflowExecutionCompletedEventAttributes?.result,
    event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args,
    event.workflowExecutionUpdateCompletedEventAttributes?.outcome?.success,
  ];
  return lists.filter((p) => p !== undefined && p !== null).map(payloadBytes);
}

/** Encoded size of one event. */
export function eventBytes(event: HistoryEvent): number {
  return temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
}

/** The `step` field of a runInference input, when the event schedules one. */
export function inferenceStep(event: HistoryEvent): number | undefined {
  const attrs = event.activityTaskScheduledEventAttributes;
  if (attrs?.activityType?.name !== 'runInference') return undefined;
  const data = attrs.input?.payloads?.[0]?.data;
  if (!data) return undefined;
  const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as { step?: number };
  return parsed.step;
}

/** History bytes attributed to each step (index = step - 1), over all runs. */
export function bytesPerStep(runs: readonly RunHistory[]): number[] {
  const perStep: number[] = [];
  let step = 0;
  for (const run of runs) {
    for (const event of run.events) {
      step = inferenceStep(event) ?? step;
      if (step === 0) continue;
      perStep[step - 1] = (perStep[step - 1] ?? 0) + eventBytes(event);
    }
  }
  return perStep.map((b) => b ?? 0);
}

/** Mean of a list (0 for an empty one). */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** History events attributed to each step (index = step - 1), over all runs; same attribution as {@link bytesPerStep}. */
export function eventsPerStep(runs: readonly RunHistory[]): number[] {
  const perStep: number[] = [];
  let step = 0;
  for (const run of runs) {
    for (const event of run.events) {
      step = inferenceStep(event) ?? step;
      if (step === 0) continue;
      perStep[step - 1] = (perStep[step - 1] ?? 0) + 1;
    }
  }
  return Array.from(perStep, (n) => n ?? 0);
}

/** An event's server timestamp in epoch milliseconds. */
export function eventTimeMs(event: HistoryEvent): number {
  const time = event.eventTime;
  if (!time) return Number.NaN;
  const seconds = typeof time.seconds === 'number' ? time.seconds : (time.seconds?.toNumber() ?? 0);
  return seconds * 1000 + Math.floor((time.nanos ?? 0) / 1e6);
}
