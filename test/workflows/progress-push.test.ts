/**
 * A turn's progress events reach a follower in the worker's own process as they happen
 * (the turn workflow's progress sink, src/shared/turn-event-bus.ts), without waiting
 * for the next poll of the progress query; a follower elsewhere still polls.
 */
import { randomUUID } from 'node:crypto';
import { answerApproval } from '../../src/client/intervene';
import { followTurn, startThread } from '../../src/client/threads';
import { turnProgressQuery, type TurnEvent } from '../../src/workflows/definitions';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';

describe('progress pushed to followers in the worker process', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => {
    h.model.assertProtocol();
  });

  test('an approval request reaches a follower that polls only every 10 minutes, and the follower sees every event', async () => {
    h.model.enqueue(respond(shellCall('echo pushed > pushed.txt')), respond(assistantMessage('done')));
    const threadId = `t-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings({ approvalPolicy: 'untrusted' }), text: 'write a file', taskQueue: h.taskQueue });
    const events: TurnEvent[] = [];
    // The follower's first poll happens at once, before the model has answered; the
    // approval request comes later, so only a push can bring it before the next poll.
    const result = await followTurn(
      h.client,
      started.turnWorkflowId,
      async (event) => {
        events.push(event);
        if (event.kind === 'approval.requested') await answerApproval(h.client, threadId, 'approve', event.call.callId);
      },
      { pollMs: 600_000 },
    );

    expect(result.status).toBe('completed');
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: result.lastEventSeq ?? 0 }, (_, i) => i + 1));
    expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['approval.requested', 'approval.resolved', 'tool.completed']));
    // The same events as the turn's own log.
    const logged = await h.client.workflow.getHandle(started.turnWorkflowId).query(turnProgressQuery, { after: 0 });
    expect(events).toEqual(logged.events);
  }, 60_000);
});
