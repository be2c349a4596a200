import OpenAI, { APIError } from 'openai';
import type { ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import {
  assistantMessage,
  badRequest,
  cut,
  estimateUsage,
  functionCall,
  hang,
  malformed,
  noCompleted,
  rateLimited,
  reasoning,
  respond,
  responseFailed,
  shellCall,
} from './responses-builders';
import { findPairingViolations, ProtocolViolationError, ScriptedResponsesServer, type InputItem } from './responses-server';

const userSays = (text: string): ResponseInputItem => ({ role: 'user', content: text });

let server: ScriptedResponsesServer;
let client: OpenAI;

beforeEach(async () => {
  server = await ScriptedResponsesServer.start();
  client = new OpenAI({ apiKey: 'test', baseURL: server.url, maxRetries: 0 });
});

afterEach(async () => {
  await server.close();
});

function create(input: ResponseInputItem[], extra: { prompt_cache_key?: string; headers?: Record<string, string> } = {}) {
  const { headers, ...params } = extra;
  return client.responses.create(
    { model: 'test-model', input, stream: true, store: false, ...params },
    headers ? { headers } : undefined,
  );
}

async function collect(input: ResponseInputItem[], extra: Parameters<typeof create>[1] = {}): Promise<ResponseStreamEvent[]> {
  const events: ResponseStreamEvent[] = [];
  for await (const event of await create(input, extra)) events.push(event);
  return events;
}

async function eventually(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function ofType<T extends ResponseStreamEvent['type']>(events: ResponseStreamEvent[], type: T) {
  return events.filter((e): e is Extract<ResponseStreamEvent, { type: T }> => e.type === type);
}

describe('streaming', () => {
  it('streams an assistant message event by event and completes with its output and estimated usage', async () => {
    const message = assistantMessage('Hello from the scripted model!');
    server.enqueue(respond(message));
    const input = [userSays('hi')];

    const events = await collect(input);

    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(ofType(events, 'response.output_text.delta').map((e) => e.delta).join('')).toBe('Hello from the scripted model!');
    const [completed] = ofType(events, 'response.completed');
    expect(completed.response.output).toEqual([message]);
    expect(completed.response.model).toBe('test-model');
    expect(completed.response.usage).toEqual({
      input_tokens: Math.ceil(JSON.stringify(server.requests[0].body.input).length / 4),
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: Math.ceil(JSON.stringify([message]).length / 4),
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: completed.response.usage!.input_tokens + completed.response.usage!.output_tokens,
    });
    server.assertProtocol();
  });

  it('lets a script override usage fields and sums total_tokens from them', async () => {
    server.enqueue(respond(assistantMessage('ok'), { usage: { input_tokens: 100, output_tokens: 7, input_tokens_details: { cached_tokens: 80, cache_write_tokens: 0 } } }));

    const [completed] = ofType(await collect([userSays('hi')]), 'response.completed');

    expect(completed.response.usage).toEqual(
      estimateUsage([], [], { input_tokens: 100, output_tokens: 7, input_tokens_details: { cached_tokens: 80, cache_write_tokens: 0 } }),
    );
    expect(completed.response.usage?.total_tokens).toBe(107);
  });

  it('delivers function_call arguments as deltas, a done event and the finished item', async () => {
    const call = shellCall(['ls', '-la'], { workdir: 'src', callId: 'call_ls' });
    const thought = reasoning('Listing files first.', 'enc-blob');
    server.enqueue(respond([thought, call]));

    const events = await collect([userSays('list files')]);

    const deltas = ofType(events, 'response.function_call_arguments.delta');
    expect(deltas.map((d) => d.delta).join('')).toBe('{"command":["ls","-la"],"workdir":"src"}');
    expect(deltas.every((d) => d.item_id === call.id && d.output_index === 1)).toBe(true);
    const [argsDone] = ofType(events, 'response.function_call_arguments.done');
    expect(argsDone).toMatchObject({ name: 'shell', arguments: call.arguments, item_id: call.id, output_index: 1 });
    const added = ofType(events, 'response.output_item.added').map((e) => e.item);
    expect(added[1]).toEqual({ ...call, status: 'in_progress', arguments: '' });
    const done = ofType(events, 'response.output_item.done').map((e) => e.item);
    expect(done).toEqual([thought, call]);
  });

  it('streams a reasoning summary as deltas and carries encrypted content only when the item is done', async () => {
    const thought = reasoning('Think about it.', 'gAAAA-encrypted');
    server.enqueue(respond(thought));

    const events = await collect([userSays('think')]);

    expect(ofType(events, 'response.output_item.added')[0].item).toEqual({ type: 'reasoning', id: thought.id, summary: [] });
    expect(ofType(events, 'response.reasoning_summary_text.delta').map((e) => e.delta).join('')).toBe('Think about it.');
    expect(ofType(events, 'response.output_item.done')[0].item).toEqual(thought);
  });

  it('spaces events out by chunkDelayMs', async () => {
    server.enqueue(respond(assistantMessage('slow'), { chunkDelayMs: 30 }));
    const started = Date.now();

    const events = await collect([userSays('hi')]);

    expect(events.length).toBeGreaterThan(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual((events.length - 1) * 30 - 20);
  });

  it('answers from the handler once the queue is empty', async () => {
    server.enqueue(respond(assistantMessage('queued')));
    server.setHandler((request) => respond(assistantMessage(`handled #${request.index}`)));

    const texts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [done] = ofType(await collect([userSays('hi')]), 'response.output_text.done');
      texts.push(done.text);
    }

    expect(texts).toEqual(['queued', 'handled #1', 'handled #2']);
    expect(server.pending()).toBe(0);
  });

  it('resolves waitForRequests once the given number of requests arrived', async () => {
    server.setHandler(() => respond(assistantMessage('ok')));
    const waiting = server.waitForRequests(2, 5_000);

    await collect([userSays('one')]);
    await collect([userSays('two')]);

    await expect(waiting).resolves.toBeUndefined();
    await expect(server.waitForRequests(3, 50)).rejects.toThrow('Waited 50 ms for 3 requests');
  });
});

describe('faults', () => {
  it('surfaces a 429 as RateLimitError with the retry-after header readable', async () => {
    server.enqueue(rateLimited(7, 'Slow down'));

    const error: unknown = await create([userSays('hi')]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.headers.get('retry-after')).toBe('7');
    expect(rateLimit.code).toBe('rate_limit_exceeded');
    expect(rateLimit.message).toContain('Slow down');
  });

  it('surfaces a 400 with an error body as BadRequestError carrying the message', async () => {
    server.enqueue(badRequest('Invalid value for input[3]', 'invalid_value'));

    const error: unknown = await create([userSays('hi')]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as APIError).message).toBe('400 Invalid value for input[3]');
    expect((error as APIError).code).toBe('invalid_value');
  });

  it('holds a hanging stream open until the client aborts, then keeps serving', async () => {
    server.enqueue(hang(), respond(assistantMessage('after the hang')));
    const stream = await create([userSays('hi')]);

    const seen: string[] = [];
    for await (const event of stream) {
      seen.push(event.type);
      if (event.type === 'response.in_progress') stream.controller.abort();
    }
    await eventually(() => server.openStreams() === 0, 'the server sees the client leave');

    expect(seen).toEqual(['response.created', 'response.in_progress']);
    const [done] = ofType(await collect([userSays('hi')]), 'response.output_text.done');
    expect(done.text).toBe('after the hang');
  });

  it('ends a hanging stream on close, failing the client iteration', async () => {
    server.enqueue(hang());
    const stream = await create([userSays('hi')]);
    const iteration = (async () => {
      for await (const _event of stream) {
        /* drain until the connection dies */
      }
    })();
    await eventually(() => server.openStreams() === 1, 'the stream is open');

    await server.close();

    await expect(iteration).rejects.toThrow('terminated');
    expect(server.openStreams()).toBe(0);
  });

  it('cuts the connection after the given number of events, failing the client iteration', async () => {
    server.enqueue(cut(4, [assistantMessage('never finished')]));
    const seen: string[] = [];

    const iteration = (async () => {
      for await (const event of await create([userSays('hi')])) seen.push(event.type);
    })();

    await expect(iteration).rejects.toThrow('terminated');
    expect(seen).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
  });

  it('ends the stream without response.completed for a no-completed step', async () => {
    server.enqueue(noCompleted(functionCall('shell', { command: ['true'] })));

    const types = (await collect([userSays('hi')])).map((e) => e.type);

    expect(types).toContain('response.output_item.done');
    expect(types).not.toContain('response.completed');
    expect(types[types.length - 1]).toBe('response.output_item.done');
  });

  it('sends a data line that is not JSON for a malformed step, so iteration throws a SyntaxError', async () => {
    server.enqueue(malformed());
    client = new OpenAI({ apiKey: 'test', baseURL: server.url, maxRetries: 0, logLevel: 'off' }); // the SDK logs the bad line

    await expect(collect([userSays('hi')])).rejects.toThrow(SyntaxError);
  });

  it('ends a response-failed step with response.failed carrying the error code', async () => {
    server.enqueue(responseFailed('context_length_exceeded', 'Your input exceeds the context window.'));

    const events = await collect([userSays('hi')]);

    const [failed] = ofType(events, 'response.failed');
    expect(failed.response.status).toBe('failed');
    expect(failed.response.error).toEqual({ code: 'context_length_exceeded', message: 'Your input exceeds the context window.' });
    expect(events.map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.failed']);
  });
});

describe('protocol checks', () => {
  const call = { type: 'function_call', call_id: 'call_a', name: 'shell', arguments: '{"command":["ls"]}' } as const;
  const output = { type: 'function_call_output', call_id: 'call_a', output: 'file.txt' } as const;

  it('records no violation for a conversation whose calls are answered and whose input only grows', async () => {
    server.setHandler(() => respond(assistantMessage('ok')));
    const first = [userSays('hi')];
    const second = [...first, call, output];
    const third = [...second, userSays('thanks')];

    for (const input of [first, second, third]) await collect(input, { prompt_cache_key: 'thread-1' });

    expect(server.violations).toEqual([]);
    expect(() => server.assertProtocol()).not.toThrow();
  });

  it('records a function_call that has no output', async () => {
    server.enqueue(respond(assistantMessage('ok')));

    await collect([userSays('hi'), call]);

    expect(server.violations).toEqual([
      "request #0: input[1] function_call 'shell' (call_id call_a) has no function_call_output (call_id call_a)",
    ]);
    expect(() => server.assertProtocol()).toThrow(ProtocolViolationError);
  });

  it('records an orphan function_call_output', async () => {
    server.enqueue(respond(assistantMessage('ok')));

    await collect([userSays('hi'), output]);

    expect(server.violations).toEqual([
      'request #0: input[1] function_call_output (call_id call_a) has no matching call (orphan output)',
    ]);
  });

  it('records a request that does not extend the previous one of its prompt_cache_key thread', async () => {
    server.setHandler(() => respond(assistantMessage('ok')));

    await collect([userSays('one'), userSays('two')], { prompt_cache_key: 'thread-1' });
    await collect([userSays('something else')], { prompt_cache_key: 'thread-2' });
    await collect([userSays('one'), userSays('2'), userSays('three')], { prompt_cache_key: 'thread-1' });

    expect(server.violations).toEqual([
      "request #2 (prompt_cache_key 'thread-1'): input does not extend request #0: " +
        'input[1] differs: was {"role":"user","content":"two"}, now {"role":"user","content":"2"}',
    ]);
  });

  it('lets allowPrefixBreak excuse exactly one non-extending request of its thread', async () => {
    server.setHandler(() => respond(assistantMessage('ok')));
    await collect([userSays('long history')], { prompt_cache_key: 't' });

    server.allowPrefixBreak('t');
    await collect([userSays('compacted')], { prompt_cache_key: 't' });
    await collect([userSays('broken again')], { prompt_cache_key: 't' });

    expect(server.violations).toEqual([
      "request #2 (prompt_cache_key 't'): input does not extend request #1: " +
        'input[0] differs: was {"role":"user","content":"compacted"}, now {"role":"user","content":"broken again"}',
    ]);
  });

  it('excuses a non-extending request that carries the prefix reset header', async () => {
    server.setHandler(() => respond(assistantMessage('ok')));

    await collect([userSays('long history')], { prompt_cache_key: 't' });
    await collect([userSays('compacted')], { prompt_cache_key: 't', headers: { 'x-unroll-prefix-reset': '1' } });

    expect(server.violations).toEqual([]);
  });

  it('records an unexpected request and answers it with a 500', async () => {
    server.enqueue(respond(assistantMessage('the only step')));
    await collect([userSays('hi')]);

    const error: unknown = await create([userSays('again')]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(server.violations).toEqual(['unexpected request #1: the script is empty and no handler is set']);
  });

  it('records requests that are not streamed, are stored or lack a model', async () => {
    server.setHandler(() => respond(assistantMessage('ok')));

    const response = await fetch(`${server.url}/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'hi', store: true }),
    });
    await response.text();

    expect(server.violations).toEqual([
      'request #0: model is missing (got undefined)',
      'request #0: stream must be true (got undefined)',
      'request #0: store must be false (got true)',
      'request #0: input must be an array (got "hi")',
    ]);
  });

  it('rejects a request with a missing output as a 400 in strict mode and keeps the step queued', async () => {
    await server.close();
    server = await ScriptedResponsesServer.start({ strict: true });
    client = new OpenAI({ apiKey: 'test', baseURL: server.url, maxRetries: 0 });
    server.enqueue(respond(assistantMessage('ok')));

    const error: unknown = await create([userSays('hi'), call]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as APIError).message).toContain('has no function_call_output');
    expect(server.pending()).toBe(1);
  });
});

describe('findPairingViolations', () => {
  const fc = (callId: string, type = 'function_call'): InputItem => ({ type, call_id: callId, name: 'shell' });
  const out = (callId: string, type = 'function_call_output'): InputItem => ({ type, call_id: callId, output: 'x' });

  it.each<[string, InputItem[], string[]]>([
    ['accepts answered calls in any interleaving', [fc('a'), fc('b'), out('b'), out('a')], []],
    ['accepts a custom tool call with its output', [fc('c', 'custom_tool_call'), out('c', 'custom_tool_call_output')], []],
    ['reports an output placed before its call', [out('a'), fc('a')], ['input[0] function_call_output (call_id a) comes before its call']],
    ['reports a second output for one call', [fc('a'), out('a'), out('a')], ['input[2] function_call_output (call_id a) is a duplicate output for input[0]']],
    ['reports a call without call_id', [{ type: 'function_call', name: 'shell' }], ["input[0] function_call 'shell' has no call_id"]],
    ['reports a repeated call_id', [fc('a'), out('a'), fc('a')], ["input[2] function_call 'shell' (call_id a) repeats the call_id of input[0]"]],
    [
      'reports an output of the wrong kind',
      [fc('a'), out('a', 'custom_tool_call_output')],
      ['input[1] custom_tool_call_output (call_id a) answers a function_call (input[0])'],
    ],
  ])('%s', (_name, input, expected) => {
    expect(findPairingViolations(input)).toEqual(expected);
  });
});
