/**
 * MCP through the whole loop (real dev server, in-process worker, scripted Responses
 * server, real MCP server processes): tools listed at thread start under Codex's names,
 * calls and their outputs as Codex gives them (text, structured content, images stored
 * by hash), the published server-everything, a streamable HTTP server with a bearer
 * token, a server that fails to start and one that crashes mid-call.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { compactThread, followTurn, startThread } from '../../src/client/threads';
import { sessionWorkflowId } from '../../src/shared/ids';
import { selectThreadTools } from '../../src/tools/thread-tools';
import { processMcpPool } from '../../src/mcp/pool';
import { sessionQuery } from '../../src/workflows/definitions';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import { everythingServer, fixtureStdioServer, mcpCall, mcpThread, startHttpFixture, WALL_TIME, type HttpFixture } from '../support/mcp-servers';
import type { RecordedRequest } from '../support/responses-server';
import { assistantMessage, respond } from '../support/responses-builders';

const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFElEQVR4nGP4z8DAAMIM/////w8AH+4F+7C4l8kAAAAASUVORK5CYII=';
/** What Codex 0.171 sent for the fixture server `fix` (captured with `codex exec`): one namespace, functions sorted, keys sorted. */
const CODEX_NAMESPACE = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'codex-0.171', 'mcp-namespace-spec.json'), 'utf8')) as { tools: Array<{ name: string }> };
const NEVER = { model: 'test-model', sandboxMode: 'danger-full-access' as const, approvalPolicy: 'never' as const };

jest.setTimeout(90_000);

describe('MCP tools', () => {
  let h: Harness;
  let http: HttpFixture;
  let firstRequest: number;
  beforeAll(async () => {
    h = await startHarness({ apiKeys: { OPENAI_API_KEY: 'test-key', MCP_TEST_TOKEN_VAR: 'sekret' } });
    http = await startHttpFixture('sekret');
  });
  afterAll(async () => {
    await h.close();
    await processMcpPool.closeAll();
    await http.kill();
  });
  beforeEach(() => {
    firstRequest = h.model.requests.length;
  });
  afterEach(() => {
    h.model.assertProtocol();
  });
  const request = (i: number): RecordedRequest => h.model.requests[firstRequest + i];
  const toolNames = (i: number) => (request(i).body.tools as Array<{ name: string }>).map((t) => t.name);
  const outputOf = (req: RecordedRequest, callId: string) => req.input.find((i) => i.type === 'function_call_output' && i.call_id === callId)?.output;

  test('a stdio server’s tools are offered as Codex offers them, one namespace after the built-in tools, and a call’s text result goes back as Codex gives it', async () => {
    const call = mcpCall('fix', 'echo', { text: 'hi' });
    h.model.enqueue(respond(call), respond(assistantMessage('done')));
    const { result, events } = await h.runThread('echo hi', await mcpThread(h.store, [fixtureStdioServer('fix')], NEVER));

    expect(result.status).toBe('completed');
    expect(toolNames(0)).toEqual([...selectThreadTools(NEVER).names, 'mcp__fix']);
    expect((request(0).body.tools as Array<Record<string, unknown>>).at(-1)).toEqual(CODEX_NAMESPACE);
    const output = outputOf(request(1), call.call_id) as Array<{ type: string; text: string }>;
    expect(output).toEqual([{ type: 'input_text', text: expect.stringMatching(WALL_TIME) as unknown }, { type: 'input_text', text: 'fix echo: hi' }]);
    expect(events.find((e) => e.kind === 'tool.completed')).toMatchObject({ name: 'mcp__fix__echo', success: true, metadata: { server: 'fix', tool: 'echo' } });
  });

  test('a local compaction of an MCP thread offers the thread’s recorded tools, its MCP namespace included', async () => {
    const call = mcpCall('fix', 'echo', { text: 'before compaction' });
    h.model.enqueue(respond(call), respond(assistantMessage('done')));
    const settings = await mcpThread(h.store, [fixtureStdioServer('fix')], NEVER);
    const { threadId, result } = await h.runThread('echo', { ...settings, context: { ...h.settings().context, compaction: 'local' } });
    expect(result.status).toBe('completed');
    const turnTools = request(0).body.tools;
    h.model.enqueue(respond(assistantMessage('SUMMARY: echoed once')));
    await compactThread(h.client, threadId);
    const summaryRequest = h.model.requests.at(-1);
    expect(summaryRequest?.body.tool_choice).toBe('none');
    expect(summaryRequest?.body.tools).toEqual(turnTools);
    expect((summaryRequest?.body.tools as Array<{ name?: string }>).map((t) => t.name)).toContain('mcp__fix');
  });

  test('structured content is given to the model as its JSON, and a tool’s own error as a failed call', async () => {
    const add = mcpCall('fix', 'add', { a: 2, b: 40 });
    const fail = mcpCall('fix', 'fail', {});
    h.model.enqueue(respond([add, fail]), respond(assistantMessage('done')));
    const { result, events } = await h.runThread('add', await mcpThread(h.store, [fixtureStdioServer('fix')], NEVER));
    expect(result.status).toBe('completed');
    expect(outputOf(request(1), add.call_id)).toMatch(/^Wall time: \d+\.\d{4} seconds\nOutput:\n\{"sum":42\}$/);
    expect(outputOf(request(1), fail.call_id)).toEqual([{ type: 'input_text', text: expect.stringMatching(WALL_TIME) as unknown }, { type: 'input_text', text: 'it went wrong' }]);
    expect(events.filter((e) => e.kind === 'tool.completed').map((e) => (e as { success: boolean }).success)).toEqual([true, false]);
  });

  test('an image result reaches the next request as input_image content and is stored once, by hash', async () => {
    const call = mcpCall('fix', 'image', {});
    h.model.enqueue(respond(call), respond(assistantMessage('red')));
    const { result } = await h.runThread('show', await mcpThread(h.store, [fixtureStdioServer('fix')], NEVER));
    expect(outputOf(request(1), call.call_id)).toEqual([
      { type: 'input_text', text: expect.stringMatching(WALL_TIME) as unknown },
      { type: 'input_text', text: 'a red square' },
      { type: 'input_image', image_url: `data:image/png;base64,${PNG_BASE64}`, detail: 'high' },
    ]);
    const stored = (await transcriptItems(h, result.head)).find((i) => i.type === 'function_call_output' && i.call_id === call.call_id) as { output: Array<Record<string, string>> };
    expect(stored.output[2]).toEqual({ type: 'input_image', image_blob: stored.output[2].image_blob, mime_type: 'image/png', detail: 'high' });
    expect((await h.store.getBlob(stored.output[2].image_blob)).toString('base64')).toBe(PNG_BASE64);
  });

  test('a server that crashes mid-call is a tool error naming the server and its config key, and the next call starts it again', async () => {
    const crash = mcpCall('boom', 'crash', {});
    const echo = mcpCall('boom', 'echo', { text: 'again' });
    h.model.enqueue(respond(crash), respond(echo), respond(assistantMessage('recovered')));
    const { result } = await h.runThread('crash it', await mcpThread(h.store, [fixtureStdioServer('boom')], NEVER));
    expect(result.status).toBe('completed');
    const crashed = outputOf(request(1), crash.call_id) as Array<{ text: string }>;
    expect(crashed[1].text).toMatch(/^MCP server "boom" \(mcp_servers\.boom\) stopped during the call: .*crashing on purpose/);
    expect((outputOf(request(2), echo.call_id) as Array<{ text: string }>)[1]).toEqual({ type: 'input_text', text: 'boom echo: again' });
  });

  test('the published server-everything runs over stdio and its echo tool answers', async () => {
    const call = mcpCall('everything', 'echo', { message: 'hello everything' });
    h.model.enqueue(respond(call), respond(assistantMessage('ok')));
    const { result } = await h.runThread('echo', await mcpThread(h.store, [everythingServer('everything')], NEVER));
    expect(result.status).toBe('completed');
    const namespace = (request(0).body.tools as Array<{ name: string; tools?: Array<{ name: string }> }>).find((t) => t.name === 'mcp__everything');
    expect(namespace?.tools?.map((t) => t.name)).toContain('echo');
    expect(JSON.stringify(outputOf(request(1), call.call_id))).toContain('Echo: hello everything');
  });

  test('a streamable HTTP server gets the bearer token from the worker’s environment and answers', async () => {
    const call = mcpCall('remote', 'echo', { text: 'over http' });
    h.model.enqueue(respond(call), respond(assistantMessage('ok')));
    const remote = { name: 'remote', transport: 'streamable_http' as const, url: http.url, bearer_token_env_var: 'MCP_TEST_TOKEN_VAR' };
    const { result } = await h.runThread('echo', await mcpThread(h.store, [remote], NEVER));
    expect(result.status).toBe('completed');
    expect((outputOf(request(1), call.call_id) as unknown[])[1]).toEqual({ type: 'input_text', text: 'http echo: over http' });
  });

  test('a server that fails to start is reported by name and config key, and the thread runs with the other servers’ tools', async () => {
    h.model.enqueue(respond(assistantMessage('fine')));
    const broken = fixtureStdioServer('broken', { env: { MCP_TEST_FAIL_START: '1' } });
    const missing = { name: 'missing', transport: 'stdio' as const, command: '/nonexistent/mcp-server' };
    const silent = { name: 'silent', transport: 'stdio' as const, command: 'sleep', args: ['30'], startup_timeout_ms: 500 };
    const threadId = `t-${randomUUID()}`;
    const settings = h.settings(await mcpThread(h.store, [broken, missing, silent, fixtureStdioServer('ok')], NEVER));
    const started = await startThread(h.client, { threadId, settings, text: 'hi', taskQueue: h.taskQueue });
    const view = await h.client.workflow.getHandle(sessionWorkflowId(threadId)).query(sessionQuery);
    const result = await followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });

    expect(result.status).toBe('completed');
    expect(view.mcpFailures?.map((f) => f.server)).toEqual(['broken', 'missing', 'silent']);
    expect(view.mcpFailures?.[2].message).toBe('MCP server "silent" (mcp_servers.silent) failed to start: no answer to initialize within 500 ms (mcp_servers.silent.startup_timeout_sec)');
    expect(view.mcpFailures?.[0].message).toMatch(/^MCP server "broken" \(mcp_servers\.broken\) failed to start: .*refusing to start/);
    expect(view.mcpFailures?.[1].message).toMatch(/^MCP server "missing" \(mcp_servers\.missing\) failed to start: /);
    expect(toolNames(0).filter((n) => n.startsWith('mcp__'))).toEqual(['mcp__ok']);
    const ok = (request(0).body.tools as Array<{ name: string; tools?: Array<{ name: string }> }>).at(-1);
    expect(ok?.tools?.map((t) => t.name)).toEqual(CODEX_NAMESPACE.tools.map((t) => t.name));
  });

  test('a call that outlasts the server’s tool timeout is a tool error naming the setting, and the turn goes on', async () => {
    const call = mcpCall('slow', 'append', { file: '/dev/null', line: 'x', delay_ms: 5000 });
    h.model.enqueue(respond(call), respond(assistantMessage('gave up')));
    const { result } = await h.runThread('slow', await mcpThread(h.store, [fixtureStdioServer('slow', { tool_timeout_sec: 0.5 })], NEVER));
    expect(result.status).toBe('completed');
    expect((outputOf(request(1), call.call_id) as unknown[])[1]).toEqual({ type: 'input_text', text: 'MCP tool slow/append did not answer within 500 ms (mcp_servers.slow.tool_timeout_sec)' });
  });
});
