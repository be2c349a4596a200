/**
 * Model responses that carry nothing to act on: no output items at all, only
 * reasoning, or items Unroll cannot use. As in Codex, a response without tool calls
 * ends the turn; none of these may crash the loop, leave the turn running or leave the
 * thread unable to take the next turn.
 */
import { isToolCall, isToolOutput } from '../../src/items/schemas';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import type { RecordedRequest } from '../support/responses-server';
import { assistantMessage, reasoning, respond, shellCall, type OutputItem } from '../support/responses-builders';

describe('model responses with nothing to act on', () => {
  let h: Harness;
  let firstRequest: number;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    firstRequest = h.model.requests.length;
  });
  afterEach(() => {
    h.model.assertProtocol();
    expect(h.model.pending()).toBe(0);
  });
  const request = (i: number): RecordedRequest => h.model.requests[firstRequest + i];

  test('an empty response (no output items) ends the turn as completed without a message, and the next turn works', async () => {
    h.model.enqueue(respond([]));
    const { threadId, result, events } = await h.runThread('say nothing');

    expect(result).toMatchObject({ status: 'completed', steps: 1, lastMessage: null, error: null });
    expect(events.filter((e) => e.kind === 'output')).toEqual([]);

    h.model.enqueue(respond(assistantMessage('now I speak')));
    const next = await h.runTurn(threadId, 'say something');
    expect(next.result).toMatchObject({ status: 'completed', lastMessage: expect.objectContaining({ excerpt: 'now I speak' }) });
    // The empty response added nothing: the second request is the first plus the new user message.
    expect(request(1).input.slice(0, request(0).input.length)).toEqual(request(0).input);
    expect(request(1).input.length).toBe(request(0).input.length + 1);
  });

  test('an empty response right after tool calls ends the turn and keeps the tool outputs recorded', async () => {
    const call = shellCall('echo kept-output');
    h.model.enqueue(respond(call), respond([]));
    const { threadId, result } = await h.runThread('run then go quiet');

    expect(result).toMatchObject({ status: 'completed', steps: 2, lastMessage: null });
    const items = await transcriptItems(h, result.head);
    expect(items.filter(isToolCall).map((c) => c.call_id)).toEqual([call.call_id]);
    expect(items.filter(isToolOutput)).toEqual([expect.objectContaining({ call_id: call.call_id, output: expect.stringContaining('kept-output') })]);

    h.model.enqueue(respond(assistantMessage('continuing')));
    const next = await h.runTurn(threadId, 'go on');
    expect(next.result.status).toBe('completed');
    expect(next.events.find((e) => e.kind === 'turn.started')).toMatchObject({ abortedCalls: [] });
  });

  test('a response with only reasoning ends the turn, and the reasoning goes back to the model on the next turn', async () => {
    h.model.enqueue(respond(reasoning('Thinking about it, but saying nothing.', 'enc-only-reasoning')));
    const { threadId, result, events } = await h.runThread('think only');

    expect(result).toMatchObject({ status: 'completed', steps: 1, lastMessage: null });
    expect(events.filter((e) => e.kind === 'output')).toEqual([
      expect.objectContaining({ ref: expect.objectContaining({ type: 'reasoning', excerpt: 'Thinking about it, but saying nothing.' }) }),
    ]);

    h.model.enqueue(respond(assistantMessage('answer')));
    await h.runTurn(threadId, 'and now answer');
    expect(request(1).input).toContainEqual(expect.objectContaining({ type: 'reasoning', encrypted_content: 'enc-only-reasoning' }));
  });

  test('output items of a type Unroll does not know are ignored and the turn ends without crashing', async () => {
    // (web_search_call is known now: kept and sent back, see test/workflows/web-search.test.ts.)
    const unknown = { type: 'image_generation_call', id: 'ig_1', status: 'completed', result: null } as unknown as OutputItem;
    h.model.enqueue(respond([unknown, assistantMessage('drew')]));
    const { result } = await h.runThread('draw something');

    expect(result).toMatchObject({ status: 'completed', steps: 1, lastMessage: expect.objectContaining({ excerpt: 'drew' }) });
    const items = await transcriptItems(h, result.head);
    expect(items.map((i) => i.type)).not.toContain('image_generation_call');
  });
});
