/**
 * What the loop does when the model provider misbehaves: transient failures (429, 5xx,
 * cut or unfinished streams) are retried until the turn completes, honouring
 * Retry-After; final rejections (400, 401) end the turn as failed with the provider's
 * message, keep everything recorded so far, and leave the thread usable.
 */
import { isToolCall, isToolOutput } from '../../src/items/schemas';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import type { RecordedRequest } from '../support/responses-server';
import {
  assistantMessage,
  badRequest,
  cut,
  httpError,
  noCompleted,
  respond,
  shellCall,
  type ScriptStep,
} from '../support/responses-builders';

describe('provider errors during a turn', () => {
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
  const requestsSinceStart = (): number => h.model.requests.length - firstRequest;

  test('a 429 with Retry-After is retried no sooner than the provider asked, and the turn completes', async () => {
    const limited: ScriptStep = {
      kind: 'http-error',
      status: 429,
      headers: { 'retry-after': '3' },
      body: { error: { message: 'slow down', type: 'rate_limit_error' } },
    };
    h.model.enqueue(limited, respond(assistantMessage('after the wait')));
    const { result } = await h.runThread('be patient');

    expect(result.status).toBe('completed');
    expect(result.lastMessage?.excerpt).toBe('after the wait');
    expect(requestsSinceStart()).toBe(2);
    const waited = request(1).receivedAt.getTime() - request(0).receivedAt.getTime();
    // Without Retry-After the next attempt comes about a second later (the dev server
    // rounds the 100 ms retry interval up), so 3 s is what tells them apart.
    expect(waited).toBeGreaterThanOrEqual(2_800);
  });

  test('several 500s in a row are retried until the provider answers', async () => {
    h.model.enqueue(httpError(500), httpError(502), httpError(503), respond(assistantMessage('back online')));
    const { result } = await h.runThread('survive an outage');

    expect(result.status).toBe('completed');
    expect(result.lastMessage?.excerpt).toBe('back online');
    expect(requestsSinceStart()).toBe(4);
  });

  test('a stream cut mid-way is retried and the turn completes', async () => {
    h.model.enqueue(cut(), respond(assistantMessage('whole this time')));
    const { result } = await h.runThread('stream something');

    expect(result.status).toBe('completed');
    expect(result.lastMessage?.excerpt).toBe('whole this time');
    expect(requestsSinceStart()).toBe(2);
    const items = await transcriptItems(h, result.head);
    expect(items.filter((i) => i.type === 'message' && i.role === 'assistant')).toHaveLength(1);
  });

  test('a stream that ends without response.completed is retried and its partial output is not kept', async () => {
    h.model.enqueue(noCompleted(assistantMessage('unfinished')), respond(assistantMessage('finished')));
    const { result } = await h.runThread('finish your sentence');

    expect(result.status).toBe('completed');
    expect(result.lastMessage?.excerpt).toBe('finished');
    expect(requestsSinceStart()).toBe(2);
    expect(request(1).input).toEqual(request(0).input);
    const items = await transcriptItems(h, result.head);
    const assistant = items.filter((i) => i.type === 'message' && i.role === 'assistant');
    expect(assistant).toHaveLength(1);
  });

  test('a 400 fails the turn with the provider message, and the thread takes the next turn', async () => {
    h.model.enqueue(badRequest('Invalid value for tools[0].parameters'));
    const { threadId, result } = await h.runThread('ask something odd');

    expect(result.status).toBe('failed');
    expect(result.error?.type).toBe('ModelRequestRejected');
    expect(result.error?.message).toContain('Invalid value for tools[0].parameters');
    expect(requestsSinceStart()).toBe(1);

    h.model.enqueue(respond(assistantMessage('second try works')));
    const next = await h.runTurn(threadId, 'try again');
    expect(next.result.status).toBe('completed');
    expect(next.result.lastMessage?.excerpt).toBe('second try works');
  });

  test('a 401 fails the turn as an authentication failure without retrying', async () => {
    h.model.enqueue(httpError(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } }));
    const { result } = await h.runThread('who am I');

    expect(result.status).toBe('failed');
    expect(result.error?.type).toBe('ModelAuthenticationFailed');
    expect(result.error?.message).toContain('Incorrect API key provided');
    expect(requestsSinceStart()).toBe(1);
  });

  test('tool outputs of a step whose next request was rejected are kept, so the next turn sees them answered', async () => {
    const call = shellCall('echo recorded-output');
    h.model.enqueue(respond(call), badRequest('this request is rejected'));
    const { threadId, result } = await h.runThread('run then fail');

    expect(result.status).toBe('failed');
    expect(result.error?.type).toBe('ModelRequestRejected');
    const items = await transcriptItems(h, result.head);
    expect(items.filter(isToolCall).map((i) => i.call_id)).toEqual([call.call_id]);
    const outputs = items.filter(isToolOutput);
    expect(outputs).toHaveLength(1);
    expect(outputs[0].call_id).toBe(call.call_id);
    expect(outputs[0].output).toContain('recorded-output');

    h.model.enqueue(respond(assistantMessage('picking up')));
    const next = await h.runTurn(threadId, 'continue');
    expect(next.result.status).toBe('completed');
    const sent = request(2).input.filter((i) => i.type === 'function_call_output');
    expect(sent).toHaveLength(1);
    expect(String(sent[0].output)).toContain('recorded-output');
    expect(next.events.find((e) => e.kind === 'turn.started')).toMatchObject({ abortedCalls: [] });
  });
});
