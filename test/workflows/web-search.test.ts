/**
 * The hosted `web_search` tool through the whole loop, as Codex 0.171 does it: the spec is
 * in the request's `tools` when the thread's configuration offers it (cached by default,
 * live under danger-full-access or when configured, absent when disabled), and a
 * `web_search_call` the provider streams is kept in the transcript, sent back (with its
 * id) on the next request, and shown as Codex's `web_search` item and a human line.
 */
import { PassThrough } from 'node:stream';
import { ExecEventTranslator, type ExecEvent } from '../../src/client/exec-events';
import { HumanOutput } from '../../src/client/human-output';
import type { SessionSettings } from '../../src/config/settings';
import { selectThreadTools } from '../../src/tools/thread-tools';
import type { TurnEvent } from '../../src/workflows/definitions';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import type { RecordedRequest } from '../support/responses-server';
import { assistantMessage, respond, updatePlanCall, webSearchCall } from '../support/responses-builders';

describe('web_search', () => {
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
  });
  const request = (i: number): RecordedRequest => h.model.requests[firstRequest + i];
  const hostedTools = (req: RecordedRequest) => (req.body.tools as Array<{ type: string }>).filter((t) => t.type === 'web_search');
  const threadOf = (webSearch: SessionSettings['webSearch'], more: Partial<Pick<SessionSettings, 'model' | 'sandboxMode'>> = {}): Partial<SessionSettings> => {
    const context = { model: 'test-model', sandboxMode: 'read-only' as const, approvalPolicy: 'never' as const, ...more, ...(webSearch ? { webSearch } : {}) };
    return { ...context, tools: selectThreadTools(context) };
  };

  async function exec(events: readonly TurnEvent[]): Promise<ExecEvent[]> {
    const translator = new ExecEventTranslator(h.store);
    const out: ExecEvent[] = [];
    for (const e of events) out.push(...(await translator.translate(e)));
    return out;
  }

  function human(events: readonly ExecEvent[]): string {
    const err = new PassThrough();
    let text = '';
    err.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const view = new HumanOutput({ err, out: new PassThrough(), color: false });
    for (const e of events) view.event(e);
    return text;
  }

  test.each([
    ['cached (the default) searches the index only', 'cached', {}, { type: 'web_search', external_web_access: false }],
    ['live searches the open web', 'live', {}, { type: 'web_search', external_web_access: true }],
    ['cached under danger-full-access searches live, as in Codex', 'cached', { sandboxMode: 'danger-full-access' as const }, { type: 'web_search', external_web_access: true }],
    ['gpt-5.5 also searches images', 'cached', { model: 'gpt-5.5' }, { type: 'web_search', external_web_access: false, search_content_types: ['text', 'image'] }],
  ] as const)('the request offers the hosted tool as Codex sends it: %s', async (_name, mode, more, expected) => {
    h.model.enqueue(respond(assistantMessage('ok')));
    const { result } = await h.runThread('hello', threadOf(mode, more));
    expect(result.status).toBe('completed');
    expect(hostedTools(request(0))).toEqual([expected]);
    // After the tools Unroll runs, as Codex orders them.
    expect((request(0).body.tools as Array<{ type: string }>).at(-1)).toEqual(expected);
  });

  test('disabled in the configuration (or absent, as in threads from before), the request has no web_search', async () => {
    h.model.enqueue(respond(assistantMessage('ok')), respond(assistantMessage('ok')));
    await h.runThread('hello', threadOf('disabled'));
    await h.runThread('hello', threadOf(undefined));
    expect(hostedTools(request(0))).toEqual([]);
    expect(hostedTools(request(1))).toEqual([]);
  });

  test('a streamed web_search_call is kept, sent back with its id, and shown as a web_search item and a human line', async () => {
    const search = webSearchCall({ type: 'search', query: 'temporal history limit', sources: [{ type: 'url', url: 'https://docs.temporal.io/' }] });
    const plan = updatePlanCall([{ step: 'read the docs', status: 'in_progress' }]);
    h.model.enqueue(respond([search, plan]), respond(assistantMessage('50 MB.')));
    const { result, events } = await h.runThread('how big may a history get?', threadOf('cached'));

    expect(result.status).toBe('completed');
    const sentBack = request(1).input.filter((i) => i.type === 'web_search_call');
    expect(sentBack).toEqual([search]);
    expect((await transcriptItems(h, result.head)).filter((i) => i.type === 'web_search_call')).toEqual([search]);

    const stream = await exec(events);
    const searchEvents = stream.filter((e) => 'item' in e && e.item.type === 'web_search');
    expect(searchEvents).toEqual([
      { type: 'item.started', item: { id: search.id, type: 'web_search', query: '', action: { type: 'other' } } },
      { type: 'item.completed', item: { id: search.id, type: 'web_search', query: 'temporal history limit', action: { type: 'search', query: 'temporal history limit' } } },
    ]);
    // The search took item_0, as in Codex: the plan that follows is item_1.
    expect(stream.find((e) => 'item' in e && e.item.type === 'todo_list')).toMatchObject({ item: { id: 'item_1' } });
    expect(human(searchEvents)).toBe('web search temporal history limit\n');
  });

  test('a page opened and a pattern found are shown by Codex’s detail; a search of an unknown kind as other', async () => {
    const open = webSearchCall({ type: 'open_page', url: 'https://example.com/' });
    const find = webSearchCall({ type: 'find_in_page', url: 'https://example.com/', pattern: 'limit' });
    const odd = { type: 'web_search_call' as const, id: 'ws_odd', status: 'failed' as const, action: { type: 'teleport' } as unknown as typeof open.action };
    h.model.enqueue(respond([open, find, odd, assistantMessage('ok')]));
    const { events } = await h.runThread('read it', threadOf('live'));
    const completed = (await exec(events)).filter((e) => e.type === 'item.completed' && e.item.type === 'web_search').map((e) => 'item' in e && e.item);
    expect(completed).toEqual([
      { id: open.id, type: 'web_search', query: 'https://example.com/', action: { type: 'open_page', url: 'https://example.com/' } },
      { id: find.id, type: 'web_search', query: "'limit' in https://example.com/", action: { type: 'find_in_page', url: 'https://example.com/', pattern: 'limit' } },
      { id: 'ws_odd', type: 'web_search', query: '', action: { type: 'other' } },
    ]);
  });
});
