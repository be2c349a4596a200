/**
 * Tool calls whose arguments the model got wrong, beyond the few cases the loop tests
 * cover: JSON that is not an object, missing and mistyped fields, values out of range,
 * free-form (custom) calls to function tools and to unknown tools. Each must come back as
 * a failed result whose message names the tool and the problem, without running
 * anything and without throwing. At the workflow level, custom calls get custom outputs.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ToolCallItem } from '../../src/items/schemas';
import { executeToolCall } from '../../src/tools/registry';
import type { ToolContext } from '../../src/tools/types';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import { assistantMessage, customToolCall, functionCall, respond } from '../support/responses-builders';

const call = (name: string, args: string): ToolCallItem => ({ type: 'function_call', call_id: 'call_bad', name, arguments: args });

describe('executeToolCall with bad arguments', () => {
  let workspace: string;
  const ctx = (): ToolContext => ({ cwd: workspace, signal: new AbortController().signal, heartbeat: () => undefined, callId: 'call_bad' });

  beforeEach(async () => {
    workspace = await mkdtemp(path.join(os.tmpdir(), 'unroll-bad-args-'));
  });
  afterEach(async () => {
    await rm(workspace, { recursive: true, force: true });
  });

  test.each<[string, string, string, RegExp]>([
    ['JSON null', 'shell', 'null', /^invalid arguments for shell: \(root\): /],
    ['a JSON array', 'shell', '["ls"]', /^invalid arguments for shell: \(root\): /],
    ['a JSON string', 'shell', '"ls -la"', /^invalid arguments for shell: \(root\): /],
    ['a JSON number', 'apply_patch', '42', /^invalid arguments for apply_patch: \(root\): /],
    ['empty arguments', 'shell', '', /^invalid arguments for shell: command: /],
    ['truncated JSON', 'apply_patch', '{"input": "*** Begin Patch', /^failed to parse arguments of apply_patch as JSON: /],
    ['an empty argv', 'shell', '{"command": []}', /^invalid arguments for shell: command: /],
    ['an empty command string', 'shell', '{"command": ""}', /^invalid arguments for shell: command: /],
    ['an argv with a non-string', 'shell', '{"command": ["ls", 3]}', /^invalid arguments for shell: command: /],
    ['a negative timeout', 'shell', '{"command": "ls", "timeout_ms": -5}', /^invalid arguments for shell: timeout_ms: /],
    ['a fractional timeout', 'shell', '{"command": "ls", "timeout_ms": 1.5}', /^invalid arguments for shell: timeout_ms: /],
    ['a timeout given as a string', 'shell', '{"command": "ls", "timeout_ms": "10s"}', /^invalid arguments for shell: timeout_ms: /],
    ['a non-string workdir', 'shell', '{"command": "ls", "workdir": 7}', /^invalid arguments for shell: workdir: /],
    ['a patch without input', 'apply_patch', '{"patch": "*** Begin Patch"}', /^invalid arguments for apply_patch: input: /],
    ['a patch given as an array', 'apply_patch', '{"input": ["*** Begin Patch"]}', /^invalid arguments for apply_patch: input: /],
    ['an empty plan', 'update_plan', '{"plan": []}', /^invalid arguments for update_plan: plan: /],
    ['two steps in progress', 'update_plan', '{"plan": [{"step": "a", "status": "in_progress"}, {"step": "b", "status": "in_progress"}]}', /^invalid arguments for update_plan: plan: at most one step/],
    ['an unknown step status', 'update_plan', '{"plan": [{"step": "a", "status": "done"}]}', /^invalid arguments for update_plan: plan\.0\.status: /],
    ['a tool name with different case', 'Shell', '{"command": "ls"}', /^unknown tool "Shell"\. Available tools: exec_command, write_stdin, shell, apply_patch, update_plan/],
    ['an empty tool name', '', '{}', /^unknown tool ""\. Available tools: /],
  ])('%s is reported to the model and nothing runs', async (_case, name, args, message) => {
    const result = await executeToolCall(call(name, args), ctx(), { shellTimeoutMs: 5_000 });
    expect(result).toEqual({ success: false, output: expect.stringMatching(message), metadata: { error: result.output } });
    expect(await readdir(workspace)).toEqual([]);
  });

  test('a free-form (custom) call to a function tool fails its schema instead of running the text as a command', async () => {
    const custom: ToolCallItem = { type: 'custom_tool_call', call_id: 'call_custom', name: 'shell', input: 'touch pwned.txt' };
    const result = await executeToolCall(custom, ctx(), { shellTimeoutMs: 5_000 });
    expect(result.success).toBe(false);
    expect(result.output).toMatch(/^invalid arguments for shell: command: /);
    expect(await readdir(workspace)).toEqual([]);
  });
});

describe('bad calls in the agent loop', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => {
    h.model.assertProtocol();
  });

  test('custom tool calls, known or not, are answered with custom outputs and the turn completes', async () => {
    const unknownCustom = customToolCall('grep_everything', 'TODO', 'call_custom_unknown');
    const shellAsCustom = customToolCall('shell', 'echo hi', 'call_custom_shell');
    const nullArgs = functionCall('apply_patch', 'null', 'call_null_args');
    h.model.enqueue(respond([unknownCustom, shellAsCustom, nullArgs]), respond(assistantMessage('understood')));
    const { result, events } = await h.runThread('call tools in odd ways');

    expect(result.status).toBe('completed');
    const outputs = (await transcriptItems(h, result.head)).filter((i) => i.type.endsWith('_output'));
    expect(outputs).toEqual([
      { type: 'custom_tool_call_output', call_id: 'call_custom_unknown', output: expect.stringMatching(/^unknown tool "grep_everything"/) },
      { type: 'custom_tool_call_output', call_id: 'call_custom_shell', output: expect.stringMatching(/^invalid arguments for shell/) },
      { type: 'function_call_output', call_id: 'call_null_args', output: expect.stringMatching(/^invalid arguments for apply_patch/) },
    ]);
    expect(events.filter((e) => e.kind === 'tool.completed').map((e) => (e.kind === 'tool.completed' ? e.success : null))).toEqual([false, false, false]);
  });
});
