/**
 * History growth: the transcript lives in the store, so a long turn with a large
 * context keeps every Temporal payload small. Sizes are read back from the real
 * workflow history on the server.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { followTurn, startThread } from '../../src/client/threads';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';

jest.setTimeout(180_000);

const STEPS = 100;
const PAYLOAD_LIMIT = 10 * 1024;

type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

function payloadBytes(payloads: Payloads): number {
  return (payloads?.payloads ?? []).reduce((sum, p) => sum + (p.data?.length ?? 0) + Object.values(p.metadata ?? {}).reduce((m, v) => m + v.length, 0), 0);
}

/** Size of every payload-carrying field of a history event. */
function eventPayloadSizes(event: temporal.api.history.v1.IHistoryEvent): number[] {
  return [
    event.workflowExecutionStartedEventAttributes?.input,
    event.workflowExecutionCompletedEventAttributes?.result,
    event.activityTaskScheduledEventAttributes?.input,
    event.activityTaskCompletedEventAttributes?.result,
    event.activityTaskFailedEventAttributes?.failure?.encodedAttributes ? { payloads: [event.activityTaskFailedEventAttributes.failure.encodedAttributes] } : undefined,
  ]
    .filter((p) => p !== undefined && p !== null)
    .map((p) => payloadBytes(p));
}

describe('history growth', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  test(`a ${STEPS}-step turn with about 200 KB of conversation keeps every activity payload under 10 KB`, async () => {
    await writeFile(path.join(h.workspace, 'big.txt'), 'x'.repeat(1_900) + '\n');
    let served = 0;
    h.model.setHandler(() => {
      served += 1;
      return served < STEPS ? respond(shellCall(['cat', 'big.txt'])) : respond(assistantMessage('read it all'));
    });
    const threadId = `growth-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings(), text: 'read big.txt many times', taskQueue: h.taskQueue });
    const result = await followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 500 });
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(STEPS);
    h.model.assertProtocol();

    const lastInputBytes = Buffer.byteLength(JSON.stringify(h.model.requests[STEPS - 1].input));
    expect(lastInputBytes).toBeGreaterThan(200_000);

    const history = await h.client.workflow.getHandle(started.turnWorkflowId).fetchHistory();
    const sizes = (history.events ?? []).flatMap(eventPayloadSizes);
    // Each step after the first is one activity: its call and the next request (runToolAndInfer).
    const scheduled = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : []));
    const chained = scheduled.filter((a) => a.activityType?.name === 'runToolAndInfer');
    expect(chained).toHaveLength(STEPS - 1);
    expect(Math.max(...sizes)).toBeLessThan(PAYLOAD_LIMIT);
    // Flat, not growing: the last step's payloads (input and result) are no bigger than
    // the early ones' by more than the step counter's digits.
    const inputs = chained.map((a) => payloadBytes(a.input));
    expect(inputs[inputs.length - 1] - inputs[1]).toBeLessThan(64);
    const chainedIds = new Set((history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runToolAndInfer').map((e) => String(e.eventId)));
    const results = (history.events ?? [])
      .filter((e) => chainedIds.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '')))
      .map((e) => payloadBytes(e.activityTaskCompletedEventAttributes?.result));
    expect(results).toHaveLength(STEPS - 1);
    expect(results[results.length - 1] - results[1]).toBeLessThan(256);
  });
});
