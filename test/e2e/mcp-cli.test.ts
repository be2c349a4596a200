/**
 * MCP under the compiled CLI: `[mcp_servers.*]` in config.toml, the servers started by
 * the worker of `unroll exec`, `exec --json` emitting Codex 0.171's `mcp_tool_call` items
 * (server, tool, arguments, result or error, status), the human lines, and a server that
 * fails to start told in one line naming the server and its config key.
 */
import { rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { runCli, startCliFixture, type CliFixture } from './run-cli';
import { assistantMessage, functionCall, respond } from '../support/responses-builders';

const STDIO_SERVER = path.resolve(__dirname, '..', 'fixtures', 'mcp', 'stdio-server.mjs');

describe('MCP under the real CLI', () => {
  let fixture: CliFixture;
  beforeAll(async () => {
    fixture = await startCliFixture('mcp-cli');
    await writeFile(
      path.join(fixture.home, 'config.toml'),
      `[mcp_servers.fix]\ncommand = ${JSON.stringify(process.execPath)}\nargs = [${JSON.stringify(STDIO_SERVER)}, "fix"]\n\n` +
        `[mcp_servers.broken]\ncommand = ${JSON.stringify(process.execPath)}\nargs = [${JSON.stringify(STDIO_SERVER)}]\nenv = { MCP_TEST_FAIL_START = "1" }\n`,
    );
  });
  afterAll(async () => {
    await rm(path.join(fixture.home, 'config.toml'), { force: true });
    await fixture.close();
  });
  afterEach(() => fixture.model.assertProtocol());

  test('exec --json emits mcp_tool_call items as Codex does, and an error event for the server that failed to start', async () => {
    fixture.model.enqueue(
      respond([functionCall('mcp__fix__echo', { text: 'hi' }, 'call_echo'), functionCall('mcp__fix__fail', {}, 'call_fail')]),
      respond(assistantMessage('done')),
    );
    const run = await runCli(['exec', '--json', 'use the tools'], fixture.env, fixture.workspace);
    expect(run.code).toBe(0);
    const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.filter((e) => e.type === 'error')).toEqual([
      { type: 'error', message: expect.stringMatching(/^MCP server "broken" \(mcp_servers\.broken\) failed to start: .*refusing to start/) as unknown },
    ]);
    const items = events.filter((e) => typeof e.type === 'string' && (e.type as string).startsWith('item.')).map((e) => ({ type: e.type, item: e.item }));
    expect(items).toEqual([
      { type: 'item.started', item: { id: 'item_0', type: 'mcp_tool_call', server: 'fix', tool: 'echo', arguments: { text: 'hi' }, result: null, error: null, status: 'in_progress' } },
      { type: 'item.completed', item: { id: 'item_0', type: 'mcp_tool_call', server: 'fix', tool: 'echo', arguments: { text: 'hi' }, result: { content: [{ type: 'text', text: 'fix echo: hi' }], structured_content: null }, error: null, status: 'completed' } },
      { type: 'item.started', item: { id: 'item_1', type: 'mcp_tool_call', server: 'fix', tool: 'fail', arguments: {}, result: null, error: null, status: 'in_progress' } },
      { type: 'item.completed', item: { id: 'item_1', type: 'mcp_tool_call', server: 'fix', tool: 'fail', arguments: {}, result: { content: [{ type: 'text', text: 'it went wrong' }], structured_content: null }, error: null, status: 'failed' } },
      { type: 'item.completed', item: { id: 'item_2', type: 'agent_message', text: 'done' } },
    ]);
  });

  test('the human output shows each MCP call on a line and the server that failed to start on stderr', async () => {
    fixture.model.enqueue(respond(functionCall('mcp__fix__echo', { text: 'hi' })), respond(assistantMessage('done')));
    const run = await runCli(['exec', 'use the tools'], fixture.env, fixture.workspace);
    expect(run.code).toBe(0);
    const printed = run.stdout + run.stderr;
    expect(printed).toContain('mcp fix/echo({"text":"hi"})\n  ok\n');
    expect(run.stderr).toMatch(/MCP server "broken" \(mcp_servers\.broken\) failed to start/);
  });
});
