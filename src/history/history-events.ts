/**
 * Reading a Temporal workflow history as Unroll facts: the workflow's input, result and
 * status, its activities (name, input, result, attempts and failures), its children and
 * its continue-as-new links. Works the same on a history fetched from the server and on
 * one read back from a bundle (./history-json.ts). Payloads are decoded with the default
 * payload converter, as the worker encoded them.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

/** A workflow history, as `fetchHistory()` and `historyFromJSON()` return it. */
export type History = temporal.api.history.v1.IHistory;
/** One event of a {@link History}. */
export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;
type Failure = temporal.api.failure.v1.IFailure | null | undefined;
type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined;

/** A history payload could not be decoded as JSON. */
export class HistoryDecodeError extends Error {
  override readonly name = 'HistoryDecodeError';
  constructor(readonly where: string, cause: unknown) {
    super(`cannot decode the payload of ${where}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** An int64 field (a Long after protobuf decoding, a string in JSON, or a number) as a number. */
export function int64(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  if (value && typeof value === 'object' && 'toNumber' in value && typeof value.toNumber === 'function') return (value as { toNumber(): number }).toNumber();
  return 0;
}

/** A protobuf timestamp in milliseconds since the epoch, or null when absent. */
export function timestampMs(ts: Timestamp): number | null {
  if (!ts) return null;
  return int64(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/** The event's id as a number. */
export function eventId(event: HistoryEvent): number {
  return int64(event.eventId);
}

/** Decodes every payload of a `Payloads` field. */
export function decodePayloads(payloads: Payloads, where: string): unknown[] {
  try {
    return (payloads?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p));
  } catch (err) {
    throw new HistoryDecodeError(where, err);
  }
}

/** The first argument of a `Payloads` field (workflow and activity inputs take one). */
export function firstPayload(payloads: Payloads, where: string): unknown {
  return decodePayloads(payloads, where)[0];
}

/** A failure's message with its causes, outermost first: `a: b: c` without repeats. */
export function failureMessage(failure: Failure): string | null {
  if (!failure) return null;
  const parts: string[] = [];
  for (let f: Failure = failure; f; f = f.cause) {
    const message = f.message ?? '';
    if (message !== '' && !parts.some((p) => p.includes(message))) parts.push(message);
  }
  return parts.join(': ') || null;
}

/** The application failure type (`ModelRequestRejected`, …) of a failure or its causes. */
export function failureType(failure: Failure): string | null {
  for (let f: Failure = failure; f; f = f.cause) {
    const type = f.applicationFailureInfo?.type ?? (f.timeoutFailureInfo ? 'Timeout' : null);
    if (type) return type;
  }
  return null;
}

/** How an activity ended, as far as the history tells. */
export type ActivityOutcome = 'scheduled' | 'completed' | 'failed' | 'timed-out' | 'canceled';

/** One activity of a workflow run: what was asked, how often it was tried, how it ended. */
export interface ActivityRecord {
  readonly scheduledEventId: number;
  readonly name: string;
  /** The activity's (single) argument. */
  readonly input: unknown;
  /** The summary the workflow gave it (`inference #3`, `shell: npm test`), if any. */
  readonly summary: string | null;
  readonly scheduledAt: number | null;
  /** Start of the last attempt. */
  readonly startedAt: number | null;
  readonly closedAt: number | null;
  /** Attempts made (1 when it succeeded the first time). */
  readonly attempts: number;
  /** The failure that made the server retry the last time, if the activity was retried. */
  readonly lastRetryFailure: string | null;
  readonly outcome: ActivityOutcome;
  readonly result: unknown;
  /** The final failure (failed, timed out), with its causes. */
  readonly failure: string | null;
  readonly failureType: string | null;
}

/** Every activity of a run, in the order the workflow scheduled them. */
export function activityRecords(history: History): ActivityRecord[] {
  const byScheduled = new Map<number, ActivityRecord>();
  const update = (id: number, patch: Partial<ActivityRecord>) => {
    const record = byScheduled.get(id);
    if (record) byScheduled.set(id, { ...record, ...patch });
  };
  for (const event of history.events ?? []) {
    const id = eventId(event);
    const at = timestampMs(event.eventTime);
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const summary = event.userMetadata?.summary ? firstPayload({ payloads: [event.userMetadata.summary] }, `event ${id} summary`) : null;
      byScheduled.set(id, {
        scheduledEventId: id,
        name: scheduled.activityType?.name ?? '(unknown)',
        input: firstPayload(scheduled.input, `event ${id} (${scheduled.activityType?.name})`),
        summary: typeof summary === 'string' ? summary : null,
        scheduledAt: at,
        startedAt: null,
        closedAt: null,
        attempts: 0,
        lastRetryFailure: null,
        outcome: 'scheduled',
        result: undefined,
        failure: null,
        failureType: null,
      });
      continue;
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      update(int64(started.scheduledEventId), { startedAt: at, attempts: started.attempt ?? 1, lastRetryFailure: failureMessage(started.lastFailure) });
      continue;
    }
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) {
      update(int64(completed.scheduledEventId), { closedAt: at, outcome: 'completed', result: firstPayload(completed.result, `event ${id} result`) });
      continue;
    }
    const failed = event.activityTaskFailedEventAttributes;
    if (failed) {
      update(int64(failed.scheduledEventId), { closedAt: at, outcome: 'failed', failure: failureMessage(failed.failure), failureType: failureType(failed.failure) });
      continue;
    }
    const timedOut = event.activityTaskTimedOutEventAttributes;
    if (timedOut) {
      update(int64(timedOut.scheduledEventId), { closedAt: at, outcome: 'timed-out', failure: failureMessage(timedOut.failure), failureType: failureType(timedOut.failure) });
      continue;
    }
    const canceled = event.activityTaskCanceledEventAttributes;
    if (canceled) update(int64(canceled.scheduledEventId), { closedAt: at, outcome: 'canceled' });
  }
  return [...byScheduled.values()].sort((a, b) => a.scheduledEventId - b.scheduledEventId);
}

/** How a workflow run ended (or `running`). */
export type RunStatus = 'running' | 'completed' | 'failed' | 'terminated' | 'canceled' | 'timed-out' | 'continued-as-new';

/** A child workflow a run started. */
export interface ChildRecord {
  readonly workflowId: string;
  readonly workflowType: string;
  readonly input: unknown;
  /** The first run's id, once the child started. */
  readonly runId: string | null;
  readonly initiatedAt: number | null;
}

/** The facts of one workflow run. */
export interface RunRecord {
  readonly workflowType: string;
  readonly input: unknown;
  readonly startedAt: number | null;
  readonly closedAt: number | null;
  readonly status: RunStatus;
  readonly result: unknown;
  readonly failure: string | null;
  /** The run this one continues (continue-as-new), if any. */
  readonly continuedFromRunId: string | null;
  /** The run that continues this one, if it continued-as-new. */
  readonly continuedToRunId: string | null;
  readonly children: ChildRecord[];
  readonly events: number;
}

/** An answer a person gave to an approval request (the `answerApproval` update). */
export interface ApprovalRecord {
  readonly callId: string;
  readonly decision: string;
  readonly eventId: number;
}

/** The approval answers a turn run received, by call id (from completed updates). */
export function approvalRecords(history: History): Map<string, ApprovalRecord> {
  const answers = new Map<string, ApprovalRecord>();
  for (const event of history.events ?? []) {
    const completed = event.workflowExecutionUpdateCompletedEventAttributes;
    const success = completed?.outcome?.success;
    if (!success) continue;
    const value = firstPayload(success, 'update result') as { callId?: unknown; decision?: unknown } | undefined;
    if (typeof value?.callId === 'string' && typeof value.decision === 'string') {
      answers.set(value.callId, { callId: value.callId, decision: value.decision, eventId: eventId(event) });
    }
  }
  return answers;
}

/** Reads the start, end and children of one workflow run. */
export function runRecord(history: History): RunRecord {
  const events = history.events ?? [];
  const first = events[0];
  const startAttrs = first?.workflowExecutionStartedEventAttributes;
  let status: RunStatus = 'running';
  let closedAt: number | null = null;
  let result: unknown;
  let failure: string | null = null;
  let continuedToRunId: string | null = null;
  const children = new Map<number, ChildRecord>();
  for (const event of events) {
    const at = timestampMs(event.eventTime);
    const id = eventId(event);
    const initiated = event.startChildWorkflowExecutionInitiatedEventAttributes;
    if (initiated) {
      children.set(id, {
        workflowId: initiated.workflowId ?? '',
        workflowType: initiated.workflowType?.name ?? '',
        input: firstPayload(initiated.input, `event ${id} (child input)`),
        runId: null,
        initiatedAt: at,
      });
    }
    const childStarted = event.childWorkflowExecutionStartedEventAttributes;
    if (childStarted) {
      const key = int64(childStarted.initiatedEventId);
      const child = children.get(key);
      if (child) children.set(key, { ...child, runId: childStarted.workflowExecution?.runId ?? null });
    }
    if (event.workflowExecutionCompletedEventAttributes) {
      status = 'completed';
      result = firstPayload(event.workflowExecutionCompletedEventAttributes.result, `event ${id} (result)`);
    } else if (event.workflowExecutionFailedEventAttributes) {
      status = 'failed';
      failure = failureMessage(event.workflowExecutionFailedEventAttributes.failure);
    } else if (event.workflowExecutionTerminatedEventAttributes) {
      status = 'terminated';
      failure = event.workflowExecutionTerminatedEventAttributes.reason || 'terminated';
    } else if (event.workflowExecutionCanceledEventAttributes) {
      status = 'canceled';
    } else if (event.workflowExecutionTimedOutEventAttributes) {
      status = 'timed-out';
    } else if (event.workflowExecutionContinuedAsNewEventAttributes) {
      status = 'continued-as-new';
      continuedToRunId = event.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId ?? null;
    } else {
      continue;
    }
    closedAt = at;
  }
  return {
    workflowType: startAttrs?.workflowType?.name ?? '',
    input: firstPayload(startAttrs?.input, 'the workflow input'),
    startedAt: timestampMs(first?.eventTime),
    closedAt,
    status,
    result,
    failure,
    continuedFromRunId: startAttrs?.continuedExecutionRunId || null,
    continuedToRunId,
    children: [...children.values()],
    events: events.length,
  };
}
