/**
 * MCP under the compiled CLI: `[mcp_servers.*]` in config.toml, the servers started by
 * the worker of `unroll exec`, `exec --json` emitting Codex 0.171's `mcp_tool_call` items
 * (server, tool, arguments, result or error, status), the human lines, and a server that
 * fails to start told in one line naming the server and its config key.
 */
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { runCli, startCliFixture, type CliFixture } from './run-cli';
import { mcpCall } from '../support/mcp-servers';
import { assistantMessage, respond } from '../support/responses-builders';

const STDIO_SERVER = path.resolve(__dirname, '..', 'fixtures', 'mcp', 'stdio-server.mjs');
/** `codex exec --json` 0.171 calling echo, fail, add and image of this fixture server (its model-metadata warning left out). */
const CODEX_STREAM = path.resolve(__dirname, '..', 'fixtures', 'codex-0.171', 'mcp-exec-json.jsonl');

/** Item ids renumbered from item_0 in order of appearance (Codex's stream had a warning item first). */
function renumbered<E extends { item?: { id: string } }>(events: E[]): E[] {
  const ids = new Map<string, string>();
  return events.map((e) => (e.item ? { ...e, item: { ...e.item, id: ids.get(e.item.id) ?? (ids.set(e.item.id, `item_${ids.size}`), `item_${ids.size - 1}`) } } : e));
}

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

  test('exec --json emits mcp_tool_call items exactly as Codex 0.171 does, and an error event for the server that failed to start', async () => {
    fixture.model.enqueue(
      respond([mcpCall('fix', 'echo', { text: 'hi' }), mcpCall('fix', 'fail', {}), mcpCall('fix', 'add', { a: 2, b: 40 }), mcpCall('fix', 'image', {})]),
      respond(assistantMessage('done')),
    );
    const run = await runCli(['exec', '--json', 'use the tools'], fixture.env, fixture.workspace);
    expect(run.code).toBe(0);
    const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; item?: { id: string } });
    expect(events.filter((e) => e.type === 'error')).toEqual([
      { type: 'error', message: expect.stringMatching(/^MCP server "broken" \(mcp_servers\.broken\) failed to start: .*refusing to start/) as unknown },
    ]);
    // The same calls of the same server under the real Codex (its stream from turn.started to the last item).
    const codex = readFileSync(CODEX_STREAM, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; item?: { id: string } });
    const ours = events.filter((e) => e.type === 'turn.started' || e.type.startsWith('item.'));
    expect(renumbered(ours)).toEqual(renumbered(codex));
  });

  test('the human output shows each MCP call on a line and the server that failed to start on stderr', async () => {
    fixture.model.enqueue(respond(mcpCall('fix', 'echo', { text: 'hi' })), respond(assistantMessage('done')));
    const run = await runCli(['exec', 'use the tools'], fixture.env, fixture.workspace);
    expect(run.code).toBe(0);
    const printed = run.stdout + run.stderr;
    expect(printed).toContain('mcp fix/echo({"text":"hi"})\n  ok\n');
    expect(run.stderr).toMatch(/MCP server "broken" \(mcp_servers\.broken\) failed to start/);
  });
});
