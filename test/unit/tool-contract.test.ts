/**
 * The tool contract (src/tools/contract.ts): every registered tool declares everything
 * about itself, what the workflow gets to see of a call comes from that declaration, and
 * the specs of threads from before the contract stay byte-identical.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ToolCallItem } from '../../src/items/schemas';
import type { ToolSpecContext } from '../../src/tools/contract';
import { genericToolDisplay } from '../../src/tools/display';
import { APPLY_PATCH_GRAMMAR } from '../../src/tools/apply-patch/freeform';
import { describeCall, executeToolCall, LEGACY_TOOL_NAMES, legacyToolSpecs, offeredToolNames, TOOLS, toolSpecsFor } from '../../src/tools/registry';
import { currentToolSpecs, selectThreadTools, withThreadTools } from '../../src/tools/thread-tools';
import { scriptedSessionSettings } from '../support/session-settings';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const OPTIONS = { shellTimeoutMs: 10_000 };
const CONTEXTS: ToolSpecContext[] = [
  { model: 'test-model', sandboxMode: 'workspace-write', approvalPolicy: 'on-request' },
  { model: 'gpt-5.5', sandboxMode: 'read-only', approvalPolicy: 'untrusted' },
];

const fn = (name: string, args: unknown): ToolCallItem => ({ type: 'function_call', call_id: 'c1', name, arguments: JSON.stringify(args) });
const custom = (name: string, input: string): ToolCallItem => ({ type: 'custom_tool_call', call_id: 'c1', name, input });

describe('every registered tool declares everything about itself', () => {
  test.each(TOOLS.map((tool) => [tool.name, tool] as const))('%s declares its spec, schema, side effects and display', (name, tool) => {
    expect(new Set(TOOLS.map((t) => t.name)).size).toBe(TOOLS.length);
    for (const context of CONTEXTS) {
      const spec = tool.spec(context);
      expect(spec.name).toBe(name);
      expect(spec.description.length).toBeGreaterThan(20);
      if (spec.type === 'function') expect(spec.parameters).toMatchObject({ type: 'object' });
      else expect(spec.format.type).toBe('grammar');
    }
    expect(['none', 'idempotent', 'at-most-once']).toContain(tool.sideEffects);
    expect(typeof tool.parallelSafe).toBe('boolean');
    expect(typeof tool.parameters.safeParse).toBe('function');
    expect(tool.display.kinds.length).toBeGreaterThan(0);
  });

  test('a registered tool that succeeds is never shown as an error item', async () => {
    for (const tool of [...TOOLS.map((t) => t.display), genericToolDisplay]) {
      const items = await tool.completed(
        { callId: 'c1', name: 'x', summary: 'x: thing', success: true, interrupted: false, metadata: { plan: [], changes: [], exitCode: 0, command: 'true' }, output: () => Promise.resolve('ok') },
        'item_0',
        () => 'item_1',
      );
      expect(items.map((i) => i.type)).not.toContain('error');
    }
  });

  test('a tool without an item of its own is shown as a tool_call item, completed or failed with what the model was told', async () => {
    const call = { callId: 'c1', name: 'view_image', summary: 'view_image: a.png', interrupted: false, metadata: {}, output: () => Promise.resolve('unable to locate image') };
    expect(genericToolDisplay.started(call, 'item_0')).toEqual({ id: 'item_0', type: 'tool_call', tool: 'view_image', summary: 'view_image: a.png', status: 'in_progress' });
    expect(await genericToolDisplay.completed({ ...call, success: true }, 'item_0', () => 'item_1')).toEqual([
      { id: 'item_0', type: 'tool_call', tool: 'view_image', summary: 'view_image: a.png', status: 'completed' },
    ]);
    expect(await genericToolDisplay.completed({ ...call, success: false }, 'item_0', () => 'item_1')).toEqual([
      { id: 'item_0', type: 'tool_call', tool: 'view_image', summary: 'view_image: a.png', status: 'failed', error: 'unable to locate image' },
    ]);
  });
});

describe('what the workflow learns about a call comes from its tool', () => {
  const cases: Array<[string, ToolCallItem, Record<string, unknown>]> = [
    ['a read-only command', fn('shell', { command: ['ls', '-la'] }), { approval: 'policy', knownSafe: true, changesFiles: false, mutatesFiles: false }],
    ['a command that may write', fn('shell', { command: 'rm -rf build' }), { approval: 'policy', knownSafe: false, changesFiles: true, argv: ['bash', '-c', 'rm -rf build'] }],
    ['an escalated command', fn('shell', { command: ['curl', 'x'], with_escalated_permissions: true, justification: 'net' }), { escalate: true, justification: 'net' }],
    ['a JSON patch', fn('apply_patch', { input: '*** Begin Patch\n*** Add File: a\n+a\n*** End Patch' }), { approval: 'policy', mutatesFiles: true, changesFiles: true }],
    ['a freeform patch', custom('apply_patch', '*** Begin Patch\n*** Add File: a\n+a\n*** End Patch'), { approval: 'policy', mutatesFiles: true, changesFiles: true }],
    ['a plan', fn('update_plan', { plan: [{ step: 'a', status: 'pending' }] }), { approval: 'safe', changesFiles: false }],
    ['an unknown tool', fn('frobnicate', {}), { approval: 'ask', changesFiles: true }],
    ['a known tool with arguments that do not parse (it will not run)', fn('shell', { cmd: 'x' }), { approval: 'safe', changesFiles: false }],
  ];
  test.each(cases)('%s', (_what, call, facts) => {
    expect(describeCall(call, OPTIONS).facts).toMatchObject(facts);
  });

  test('a command confined to the read-only sandbox changes no files (its step needs no checkpoint); escalated, it may', () => {
    const write = fn('shell', { command: 'echo x >> log.txt' });
    expect(describeCall(write, { ...OPTIONS, sandboxMode: 'read-only' }).facts).toMatchObject({ knownSafe: false, changesFiles: false });
    expect(describeCall(write, { ...OPTIONS, sandboxMode: 'workspace-write' }).facts).toMatchObject({ changesFiles: true });
    expect(describeCall(write, { ...OPTIONS, sandboxMode: 'danger-full-access' }).facts).toMatchObject({ changesFiles: true });
    const escalated = fn('shell', { command: 'echo x >> log.txt', with_escalated_permissions: true, justification: 'write' });
    expect(describeCall(escalated, { ...OPTIONS, sandboxMode: 'read-only' }).facts).toMatchObject({ escalate: true, changesFiles: true });
    const session = fn('exec_command', { cmd: 'echo x >> log.txt' });
    expect(describeCall(session, { ...OPTIONS, sandboxMode: 'read-only' }).facts).toMatchObject({ changesFiles: false });
    expect(describeCall(session, { ...OPTIONS, sandboxMode: 'workspace-write' }).facts).toMatchObject({ changesFiles: true });
    expect(describeCall(fn('exec_command', { cmd: 'echo x >> log.txt', sandbox_permissions: 'require_escalated', justification: 'w' }), { ...OPTIONS, sandboxMode: 'read-only' }).facts).toMatchObject({ changesFiles: true });
  });

  test('the summary and timeout of a call are its tool’s', () => {
    expect(describeCall(fn('shell', { command: 'make', timeout_ms: 5000 }), OPTIONS)).toMatchObject({ summary: 'shell: make', timeoutMs: 5000, parallelSafe: false });
    expect(describeCall(custom('apply_patch', '*** Begin Patch\n*** Update File: m\n@@\n-a\n+b\n*** Delete File: d\n*** End Patch'), OPTIONS).summary).toBe('apply_patch: U m, D d');
    expect(describeCall(fn('update_plan', { plan: [{ step: 'a', status: 'pending' }] }), OPTIONS)).toMatchObject({ summary: 'update_plan', parallelSafe: true });
  });

  test('a call of a tool the thread was not offered is treated as unknown: described so, and not run', async () => {
    const call = fn('update_plan', { plan: [{ step: 'a', status: 'pending' }] });
    expect(describeCall(call, OPTIONS, ['shell']).facts).toMatchObject({ approval: 'ask' });
    const ctx = { cwd: '/tmp', signal: new AbortController().signal, heartbeat: () => undefined, callId: 'c1' };
    expect(await executeToolCall(call, ctx, OPTIONS, ['shell'])).toEqual({
      output: 'unknown tool "update_plan". Available tools: shell',
      success: false,
      metadata: { error: 'unknown tool "update_plan". Available tools: shell' },
    });
  });

  test('the side-effect classes: a shell command runs at most once, a patch is idempotent, a plan has no effects', () => {
    expect(Object.fromEntries(TOOLS.map((t) => [t.name, t.sideEffects]))).toMatchObject({ shell: 'at-most-once', apply_patch: 'idempotent', update_plan: 'none' });
  });
});

describe('the tools a thread is offered', () => {
  test('threads from before the recorded tool list are sent exactly the specs they always were', () => {
    const before = JSON.parse(readFileSync(path.join(FIXTURES, 'legacy-tool-specs.json'), 'utf8')) as unknown;
    for (const context of CONTEXTS) expect(JSON.stringify(legacyToolSpecs(context))).toBe(JSON.stringify(before));
    const settings = scriptedSessionSettings({ cwd: '/w', baseUrl: 'http://127.0.0.1:1/v1', taskQueue: 'q', model: 'gpt-5.5' });
    expect(JSON.stringify(currentToolSpecs(settings))).toBe(JSON.stringify(before));
    expect(LEGACY_TOOL_NAMES).toEqual(['shell', 'apply_patch', 'update_plan']);
  });

  test('the models Codex 0.171 gives the freeform apply_patch get Codex’s exact custom tool; other models the JSON function', () => {
    const codexSpec = JSON.parse(readFileSync(path.join(FIXTURES, 'codex-0.171', 'apply-patch-freeform-spec.json'), 'utf8')) as unknown;
    for (const model of ['gpt-5.5', 'gpt-6-sol', 'gpt-5.5-2026-03-01', 'codex-auto-review']) {
      expect(toolSpecsFor(['apply_patch'], { ...CONTEXTS[0], model })).toEqual([codexSpec]);
    }
    for (const model of ['gpt-5', 'gpt-5.1-codex', 'o4-mini', 'llama3', 'gpt-5.55']) {
      expect(toolSpecsFor(['apply_patch'], { ...CONTEXTS[0], model })[0]).toMatchObject({ type: 'function', name: 'apply_patch' });
    }
    expect(APPLY_PATCH_GRAMMAR.definition).toBe((codexSpec as { format: { definition: string } }).format.definition);
  });

  test('a new thread records its tool names and the hash of their specs; an existing record is kept', () => {
    const context = { ...CONTEXTS[0], model: 'gpt-5.5' };
    const tools = selectThreadTools(context);
    expect(tools.names).toEqual(offeredToolNames(context));
    expect(tools.names.slice(0, 4)).toEqual(['exec_command', 'write_stdin', 'apply_patch', 'update_plan']);
    expect(tools.specs).toMatch(/^[0-9a-f]{64}$/);
    expect(selectThreadTools({ ...context, model: 'test-model' }).specs).not.toBe(tools.specs);
    const recorded = { ...context, tools: { names: ['shell'], specs: 'a'.repeat(64) } };
    expect(withThreadTools(recorded)).toBe(recorded);
    expect(withThreadTools(context as typeof context & { tools?: typeof tools }).tools).toEqual(tools);
  });
});
