/**
 * `unroll show --step` after a settings change: a thread whose second turn runs with
 * another model and reasoning effort (`resume --model X --reasoning-effort low`). The
 * rebuilt request of each step must be exactly the body the provider received for it,
 * with the model and effort that request really went out with.
 */
import { randomUUID } from 'node:crypto';
import { stepDetail } from '../../src/client/show';
import { followTurn, startThread, submitTurn } from '../../src/client/threads';
import { buildThreadRun } from '../../src/history/build-run';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import type { ThreadRun } from '../../src/history/thread-run';
import { startHarness, type Harness } from '../support/harness';
import type { RecordedRequest } from '../support/responses-server';
import { assistantMessage, respond } from '../support/responses-builders';

jest.setTimeout(120_000);

/** The body as sent, minus `stream` (a transport flag `show` leaves out). */
function sentBody(request: RecordedRequest): Record<string, unknown> {
  const { stream: _stream, ...body } = request.body;
  return body;
}

describe('unroll show after a model change', () => {
  let h: Harness;
  let run: ThreadRun;
  let first: number;

  beforeAll(async () => {
    h = await startHarness();
    first = h.model.requests.length;
    h.model.enqueue(respond(assistantMessage('first answer')), respond(assistantMessage('second answer')));
    const threadId = `show-model-${randomUUID()}`;
    const one = await startThread(h.client, { threadId, settings: h.settings({ reasoningEffort: 'high' }), text: 'first question', taskQueue: h.taskQueue });
    expect((await followTurn(h.client, one.turnWorkflowId, () => undefined, { pollMs: 50 })).status).toBe('completed');
    const two = await submitTurn(h.client, threadId, 'second question', { model: 'other-model', reasoningEffort: 'low' });
    expect((await followTurn(h.client, two.turnWorkflowId, () => undefined, { pollMs: 50 })).status).toBe('completed');
    h.model.assertProtocol();
    run = JSON.parse(JSON.stringify(await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store))) as ThreadRun;
  });
  afterAll(async () => {
    await h.close();
  });

  test('the provider received the new model and effort in turn 2', () => {
    expect(h.model.requests.slice(first).map((r) => [r.body.model, (r.body.reasoning as { effort?: string } | undefined)?.effort])).toEqual([
      ['test-model', 'high'],
      ['other-model', 'low'],
    ]);
  });

  test('--step of turn 2 names the new model and effort and is the body the provider received', async () => {
    const detail = await stepDetail(run, '2.1', undefined, h.store);
    expect(detail.request).toMatchObject({ model: 'other-model', reasoning: { effort: 'low' } });
    expect(detail.request).toEqual(sentBody(h.model.requests[first + 1]));
  });

  test('--step of turn 1 still shows the settings turn 1 ran with', async () => {
    const detail = await stepDetail(run, '1.1', undefined, h.store);
    expect(detail.request).toMatchObject({ model: 'test-model', reasoning: { effort: 'high' } });
    expect(detail.request).toEqual(sentBody(h.model.requests[first]));
  });
});
