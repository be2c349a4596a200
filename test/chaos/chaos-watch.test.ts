/**
 * The chaos run's "stuck without a message" watchdog must tell the three kinds of turn
 * apart on a real dev server: one that finished, one that waits with a reason Temporal
 * shows (a retried activity's last failure), and one that runs with nothing to tell the
 * user (here: a turn no worker ever picks up).
 */
import { randomUUID } from 'node:crypto';
import { startThread } from '../../src/client/threads';
import { watchTurn } from '../../bench/chaos/watch';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, httpError, respond } from '../support/responses-builders';

jest.setTimeout(60_000);

describe('watchTurn', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  test('reports a finished turn as it ended', async () => {
    h.model.enqueue(respond(assistantMessage('done')));
    const started = await startThread(h.client, { threadId: `watch-${randomUUID()}`, settings: h.settings(), text: 'hi', taskQueue: h.taskQueue });
    const watch = await watchTurn(h.client, started.turnWorkflowId, { deadlineMs: 30_000 });
    expect(watch).toMatchObject({ end: 'completed', message: null, result: expect.objectContaining({ status: 'completed' }) });
  });

  test('reports a turn whose model keeps failing as waiting, with the failure as the reason', async () => {
    h.model.setHandler(() => httpError(500));
    const started = await startThread(h.client, { threadId: `watch-${randomUUID()}`, settings: h.settings(), text: 'hi', taskQueue: h.taskQueue });
    try {
      const watch = await watchTurn(h.client, started.turnWorkflowId, { deadlineMs: 3_000, pollMs: 100 });
      expect(watch.end).toBe('waiting');
      expect(watch.message).toMatch(/^runInference \(attempt \d+\): .*500/);
      expect(watch.reasonsSeen.length).toBeGreaterThan(0);
    } finally {
      await h.client.workflow.getHandle(started.turnWorkflowId).terminate('test over');
    }
  });

  test('reports a running turn with no failure to explain its wait as stuck', async () => {
    const workflowId = `watch-nobody-${randomUUID()}`;
    // No worker polls this queue: the turn never takes a step, and nothing says why.
    await h.client.workflow.start('TurnWorkflow', { taskQueue: `nobody-${randomUUID()}`, workflowId, args: [{}] });
    try {
      const watch = await watchTurn(h.client, workflowId, { deadlineMs: 1_000, pollMs: 100 });
      expect(watch).toMatchObject({ end: 'stuck', message: null, reasonsSeen: [] });
    } finally {
      await h.client.workflow.getHandle(workflowId).terminate('test over');
    }
  });
});
