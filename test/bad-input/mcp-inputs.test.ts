/**
 * Bad MCP input, each answered clearly and losing nothing: config.toml's `[mcp_servers.*]`
 * with a name that cannot become a tool name or a per-tool table with an unknown key;
 * the model calling an MCP tool with arguments that are no JSON object, a tool of a server
 * the thread does not have, or a name that is an object's own property in JavaScript; a
 * server whose tool names collide or run long (Codex's names: sanitised, SHA-1 shortened,
 * duplicates dropped). Real files and the registry's own dispatch; no mocks.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import type { DynamicToolRecord } from '../../src/config/settings';
import type { FunctionCallItem } from '../../src/items/schemas';
import { qualifyToolNames } from '../../src/mcp/naming';
import { describeCall, executeToolCall } from '../../src/tools/registry';
import type { ToolContext, ToolResult } from '../../src/tools/types';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'unroll-mcp-bad-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const load = () => loadConfig({ UNROLL_HOME: home });
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config.toml [mcp_servers.*]', () => {
  test('a server name that cannot be part of a tool name is refused, naming the table', async () => {
    await writeFile(path.join(home, 'config.toml'), '[mcp_servers."my docs"]\ncommand = "docs-mcp"\n');
    expect(configError(load)).toMatch(/mcp_servers\.my docs.*the MCP server name "my docs" may hold only letters, digits, _ and -/);
  });

  test('a per-tool table with an unknown key is refused, naming the key', async () => {
    await writeFile(path.join(home, 'config.toml'), '[mcp_servers.docs]\ncommand = "docs-mcp"\n\n[mcp_servers.docs.tools.search]\napprove = true\n');
    expect(configError(load)).toMatch(/mcp_servers\.docs\.tools\.search.*approve/);
  });

  test('approval_mode and idempotent of a tool are read', async () => {
    await writeFile(path.join(home, 'config.toml'), '[mcp_servers.docs]\ncommand = "docs-mcp"\n\n[mcp_servers.docs.tools.search]\napproval_mode = "approve"\nidempotent = true\n');
    expect(load().mcpServers.docs.tools).toEqual({ search: { approval_mode: 'approve', idempotent: true } });
  });
});

describe('model calls of MCP tools', () => {
  const record: DynamicToolRecord = { source: 'mcp', server: 'docs', tool: 'search', config: 'a'.repeat(64), approval: 'ask', sideEffects: 'at-most-once', timeoutMs: 60_000 };
  const offered = ['shell', 'mcp__docs__search'];
  const dynamic = { mcp__docs__search: record };
  const calls: unknown[] = [];
  const ctx: ToolContext = {
    cwd: home, signal: new AbortController().signal, heartbeat: () => undefined, callId: 'c1',
    mcp: { call: (_r, args) => (calls.push(args), Promise.resolve<ToolResult>({ output: 'ran', success: true, metadata: {} })) },
  };
  const call = (name: string, args: string, namespace?: string): FunctionCallItem => ({ type: 'function_call', call_id: 'c1', name, arguments: args, ...(namespace ? { namespace } : {}) });
  beforeEach(() => void calls.splice(0));

  test('arguments that are no JSON object are told to the model and never reach the server', async () => {
    const result = await executeToolCall(call('search', '[1, 2]', 'mcp__docs'), ctx, { shellTimeoutMs: 1000 }, offered, dynamic);
    expect(result).toMatchObject({ success: false, output: expect.stringMatching(/^invalid arguments for mcp__docs__search: \(root\): /) as unknown });
    expect((await executeToolCall(call('search', '{"q":', 'mcp__docs'), ctx, { shellTimeoutMs: 1000 }, offered, dynamic)).output).toMatch(/^failed to parse arguments of mcp__docs__search as JSON/);
    expect(calls).toEqual([]);
  });

  test('a tool of a server the thread does not have is an unknown tool, asked for like one', async () => {
    const result = await executeToolCall(call('search', '{}', 'mcp__other'), ctx, { shellTimeoutMs: 1000 }, offered, dynamic);
    expect(result.output).toBe('unknown tool "mcp__other__search". Available tools: shell, mcp__docs__search');
    expect(describeCall(call('search', '{}', 'mcp__other'), { shellTimeoutMs: 1000 }, offered, dynamic).facts).toMatchObject({ approval: 'ask' });
    expect(calls).toEqual([]);
  });

  test('a name that is a property of every JavaScript object is no tool', async () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      expect((await executeToolCall(call(name, '{}'), ctx, { shellTimeoutMs: 1000 }, [...offered, name], dynamic)).output).toMatch(/^unknown tool/);
    }
  });

  test('a valid call is described by its server and tool, asks, and reaches the server', async () => {
    const description = describeCall(call('search', '{"q":"x"}', 'mcp__docs'), { shellTimeoutMs: 1000 }, offered, dynamic);
    expect(description).toMatchObject({ name: 'mcp__docs__search', summary: 'mcp: docs/search', parallelSafe: false, timeoutMs: 60_000, facts: { approval: 'ask', changesFiles: true } });
    expect((await executeToolCall(call('search', '{"q":"x"}', 'mcp__docs'), ctx, { shellTimeoutMs: 1000 }, offered, dynamic)).output).toBe('ran');
    expect(calls).toEqual([{ q: 'x' }]);
  });
});

describe('tool names of a server', () => {
  test('are sanitised, shortened with a SHA-1 past 64 characters, and kept once', () => {
    const long = 'a'.repeat(70);
    const named = qualifyToolNames([
      { server: 'docs', tool: 'search.v2' },
      { server: 'docs', tool: 'search_v2' },
      { server: 'docs', tool: long },
    ]);
    const sha1 = createHash('sha1').update(long).digest('hex');
    expect(named.map((t) => [t.namespace, t.function, t.name])).toEqual([
      ['mcp__docs', 'search_v2', 'mcp__docs__search_v2'],
      ['mcp__docs', `${'a'.repeat(24)}${sha1}`, `mcp__docs__${'a'.repeat(24)}${sha1}`],
    ]);
  });
});
