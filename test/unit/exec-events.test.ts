import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { ToolCallRef } from '../../src/activities/types';
import { ExecEventTranslator, execUsage, shellOutputBody, type ExecEvent } from '../../src/client/exec-events';
import { NO_CONTEXT } from '../../src/shared/context-state';
import type { ConversationItem } from '../../src/items/schemas';
import { openFsStore, type TranscriptStore } from '../../src/store';
import type { TurnEvent, TurnResult } from '../../src/workflows/definitions';

let home: string;
let store: TranscriptStore;
let translator: ExecEventTranslator;

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'unroll-exec-events-'));
  store = openFsStore(home);
  translator = new ExecEventTranslator(store);
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const PATCH_CHANGES = [{ path: '/ws/a', kind: 'add' }, { path: '/ws/b', kind: 'update' }, { path: '/ws/c', kind: 'delete' }];
const SHELL_OUTPUT = 'Exit code: 0\nWall time: 0.1 seconds\nOutput:\nhi\n';
const usage = { inputTokens: 120, cachedInputTokens: 100, outputTokens: 30, reasoningOutputTokens: 12 };

let seq = 0;
/** Stores `item` and returns its hash. */
const put = (item: ConversationItem) => store.putItem(item);
const callOutput = (callId: string, output: string): ConversationItem => ({ type: 'function_call_output', call_id: callId, output });

function started(callId: string, name: string, summary: string, itemHash = 'f'.repeat(64)): TurnEvent {
  const call: ToolCallRef = { callId, name, itemHash, parallelSafe: false, summary, timeoutMs: 10_000, facts: { argv: null, knownSafe: false, escalate: false, justification: null, mutatesFiles: false } };
  return { seq: ++seq, kind: 'tool.started', step: 1, call };
}

function completed(callId: string, name: string, outputHash: string, metadata: Record<string, unknown>, success = true): TurnEvent {
  return { seq: ++seq, kind: 'tool.completed', step: 1, callId, name, outputHash, success, interrupted: false, metadata };
}

/** Translates the events in order and returns every exec event they produced. */
async function translateAll(events: TurnEvent[]): Promise<ExecEvent[]> {
  const out: ExecEvent[] = [];
  for (const event of events) out.push(...(await translator.translate(event)));
  return out;
}

function result(overrides: Partial<TurnResult>): TurnResult {
  return { status: 'completed', head: null, context: NO_CONTEXT, lastMessage: null, usage, steps: 1, error: null, contextTokens: 0, compactions: 0, ...overrides };
}

describe('ExecEventTranslator', () => {
  it('turns a whole turn into exec events with ids that pair started and completed items', async () => {
    const reasoning = await put({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'Thinking.' }, { type: 'summary_text', text: 'Done.' }] });
    const message = await put({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hello ' }, { type: 'output_text', text: 'there' }] });
    const shellOut = await put(callOutput('c1', SHELL_OUTPUT));
    const patchOut = await put(callOutput('c2', 'Success. Updated the following files:\nA a\nM b\nD c\n'));
    const planOut = await put(callOutput('c3', 'Plan updated'));
    const unknownOut = await put(callOutput('c4', 'unsupported call: frobnicate'));
    const final = await put({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'All done.' }] });
    const patchCall = await put({ type: 'custom_tool_call', call_id: 'c2', name: 'apply_patch', input: '*** Begin Patch\n*** Delete File: c\n*** Add File: a\n+x\n*** Update File: b\n@@\n-y\n+z\n*** End Patch\n' });

    const events = await translateAll([
      { seq: ++seq, kind: 'turn.started', head: 'a'.repeat(64), abortedCalls: [], cwd: '/ws' },
      { seq: ++seq, kind: 'step.started', step: 1 },
      { seq: ++seq, kind: 'output', step: 1, ref: { hash: reasoning, type: 'reasoning', excerpt: 'Thinking.' } },
      { seq: ++seq, kind: 'output', step: 1, ref: { hash: message, type: 'agent_message', excerpt: 'Hello there' } },
      started('c1', 'shell', 'shell: echo hi'),
      completed('c1', 'shell', shellOut, { exitCode: 0, durationMs: 100, timedOut: false, truncated: false, command: 'echo hi' }),
      started('c2', 'apply_patch', 'apply_patch: D c, A a, U b', patchCall),
      completed('c2', 'apply_patch', patchOut, {
        changes: [{ kind: 'A', path: 'a' }, { kind: 'M', path: 'b' }, { kind: 'D', path: 'c' }],
        alreadyApplied: false,
      }),
      started('c3', 'update_plan', 'update_plan'),
      completed('c3', 'update_plan', planOut, { plan: [{ step: 'Read code', status: 'completed' }, { step: 'Fix bug', status: 'in_progress' }, { step: 'Test', status: 'pending' }] }),
      started('c4', 'frobnicate', 'frobnicate'),
      completed('c4', 'frobnicate', unknownOut, { error: 'unsupported call: frobnicate' }, false),
      { seq: ++seq, kind: 'step.completed', step: 1, usage, head: 'b'.repeat(64), contextTokens: 10 },
      { seq: ++seq, kind: 'output', step: 2, ref: { hash: final, type: 'agent_message', excerpt: 'All done.' } },
    ]);

    expect(events).toEqual([
      { type: 'turn.started' },
      { type: 'item.completed', item: { id: 'item_0', type: 'reasoning', text: 'Thinking.\nDone.' } },
      { type: 'item.completed', item: { id: 'item_1', type: 'agent_message', text: 'Hello there' } },
      { type: 'item.started', item: { id: 'item_2', type: 'command_execution', command: 'echo hi', aggregated_output: '', exit_code: null, status: 'in_progress' } },
      { type: 'item.completed', item: { id: 'item_2', type: 'command_execution', command: 'echo hi', aggregated_output: 'hi\n', exit_code: 0, status: 'completed' } },
      // The changes are listed from item.started on, absolute and sorted, as Codex lists them.
      { type: 'item.started', item: { id: 'item_3', type: 'file_change', changes: PATCH_CHANGES, status: 'in_progress' } },
      { type: 'item.completed', item: { id: 'item_3', type: 'file_change', changes: PATCH_CHANGES, status: 'completed' } },
      {
        type: 'item.started',
        item: {
          id: 'item_4',
          type: 'todo_list',
          items: [{ text: 'Read code', completed: true }, { text: 'Fix bug', completed: false }, { text: 'Test', completed: false }],
        },
      },
      // An unknown tool has no item in Codex; Unroll's call.rejected says why.
      { type: 'call.rejected', call_id: 'c4', tool: 'frobnicate', message: 'unsupported call: frobnicate' },
      { type: 'item.completed', item: { id: 'item_5', type: 'agent_message', text: 'All done.' } },
    ]);
    // The plan's item completes when the turn ends, after the last message.
    expect(translator.finish(result({ status: 'completed' }))[0]).toEqual({
      type: 'item.completed',
      item: { id: 'item_4', type: 'todo_list', items: [{ text: 'Read code', completed: true }, { text: 'Fix bug', completed: false }, { text: 'Test', completed: false }] },
    });
  });

  it.each([
    {
      name: 'a failing command with its exit code',
      output: 'Exit code: 2\nWall time: 0.3 seconds\nOutput:\nls: x: No such file\n',
      metadata: { exitCode: 2, durationMs: 300, timedOut: false, truncated: false, command: 'ls x' },
      success: false,
      expected: { command: 'ls x', aggregated_output: 'ls: x: No such file\n', exit_code: 2, status: 'failed' },
    },
    {
      name: 'an interrupted command without exit code, using the started command',
      output: 'aborted: the command was interrupted',
      metadata: { interrupted: true },
      success: false,
      expected: { command: 'sleep 100', aggregated_output: 'aborted: the command was interrupted', exit_code: null, status: 'failed' },
    },
  ])('completes the command_execution item of $name', async ({ output, metadata, success, expected }) => {
    const hash = await put(callOutput('c1', output));
    const command = (metadata as { command?: string }).command ?? 'sleep 100';
    const events = await translateAll([started('c1', 'shell', `shell: ${command}`), completed('c1', 'shell', hash, metadata, success)]);
    expect(events).toEqual([
      { type: 'item.started', item: { id: 'item_0', type: 'command_execution', command, aggregated_output: '', exit_code: null, status: 'in_progress' } },
      { type: 'item.completed', item: { id: 'item_0', type: 'command_execution', ...expected } },
    ]);
  });

  it('completes the command_execution item it started when a shell call fails before running', async () => {
    const text = 'invalid arguments for shell: command: Invalid input';
    const hash = await put(callOutput('c1', text));
    const events = await translateAll([started('c1', 'shell', 'shell: ls'), completed('c1', 'shell', hash, { error: text }, false)]);
    // A consumer that saw item.started for a command_execution must see it completed as one.
    expect(events[1]).toMatchObject({ type: 'item.completed', item: { id: 'item_0', type: 'command_execution', status: 'failed' } });
  });

  it('gives a patch that fails verification no item, as Codex, and says why in call.rejected', async () => {
    const text = 'apply_patch verification failed: Failed to find expected lines in b';
    const hash = await put(callOutput('c1', text));
    const call = await put({ type: 'custom_tool_call', call_id: 'c1', name: 'apply_patch', input: '*** Begin Patch\n*** Update File: b\n@@\n-x\n+y\n*** End Patch\n' });
    const events = await translateAll([started('c1', 'apply_patch', 'apply_patch: U b', call), completed('c1', 'apply_patch', hash, { error: text }, false)]);
    expect(events).toEqual([{ type: 'call.rejected', call_id: 'c1', tool: 'apply_patch', message: text }]);
  });

  it('starts and fails the file_change item of a patch that failed while writing, with the files it declares', async () => {
    const text = 'apply_patch failed while writing files: ENOSPC: no space left on device';
    const hash = await put(callOutput('c1', text));
    const call = await put({ type: 'function_call', call_id: 'c1', name: 'apply_patch', arguments: JSON.stringify({ input: '*** Begin Patch\n*** Add File: big.txt\n+x\n*** End Patch\n' }) });
    const events = await translateAll([
      { seq: ++seq, kind: 'turn.started', head: 'a'.repeat(64), abortedCalls: [], cwd: '/ws' },
      started('c1', 'apply_patch', 'apply_patch: A big.txt', call),
      completed('c1', 'apply_patch', hash, { error: text }, false),
    ]);
    const changes = [{ path: '/ws/big.txt', kind: 'add' }];
    expect(events.slice(1)).toEqual([
      { type: 'item.started', item: { id: 'item_0', type: 'file_change', changes, status: 'in_progress' } },
      { type: 'item.completed', item: { id: 'item_0', type: 'file_change', changes, status: 'failed' } },
    ]);
  });

  it('gives a shell call whose arguments do not parse no item, as Codex, and says why in call.rejected', async () => {
    const text = 'failed to parse arguments of shell as JSON: Unexpected end of JSON input';
    const hash = await put(callOutput('c1', text));
    const events = await translateAll([started('c1', 'shell', 'shell'), completed('c1', 'shell', hash, { error: text }, false)]);
    expect(events).toEqual([{ type: 'call.rejected', call_id: 'c1', tool: 'shell', message: text }]);
  });

  it('keeps the plan in one todo_list item: started, updated on each change, completed when the turn ends', async () => {
    const plan = (statuses: string[]) => ({ plan: statuses.map((status, i) => ({ step: `s${i}`, status })) });
    const out = await put(callOutput('p', 'Plan updated'));
    const events = await translateAll([
      started('p1', 'update_plan', 'update_plan'),
      completed('p1', 'update_plan', out, plan(['in_progress', 'pending'])),
      started('p2', 'update_plan', 'update_plan'),
      completed('p2', 'update_plan', out, plan(['completed', 'completed'])),
    ]);
    const items = (done: boolean[]) => done.map((completed, i) => ({ text: `s${i}`, completed }));
    expect([...events, ...translator.finish(result({ status: 'failed', error: { type: 'X', message: 'boom' } }))]).toEqual([
      { type: 'item.started', item: { id: 'item_0', type: 'todo_list', items: items([false, false]) } },
      { type: 'item.updated', item: { id: 'item_0', type: 'todo_list', items: items([true, true]) } },
      { type: 'item.completed', item: { id: 'item_0', type: 'todo_list', items: items([true, true]) } },
      { type: 'turn.failed', error: { message: 'boom' } },
    ]);
  });

  it.each<{ name: string; event: TurnEvent }>([
    { name: 'step.started', event: { seq: 1, kind: 'step.started', step: 1 } },
    { name: 'step.completed', event: { seq: 1, kind: 'step.completed', step: 1, usage, head: 'b'.repeat(64), contextTokens: 10 } },
  ])('emits nothing for $name', async ({ event }) => {
    expect(await translator.translate(event)).toEqual([]);
  });

  it.each([
    {
      name: 'a completed turn as turn.completed with usage in exec field names',
      result: result({ status: 'completed' }),
      expected: [{
        type: 'turn.completed',
        usage: { input_tokens: 120, cached_input_tokens: 100, cache_write_input_tokens: 0, output_tokens: 30, reasoning_output_tokens: 12 },
        thread_usage: { input_tokens: 120, cached_input_tokens: 100, cache_write_input_tokens: 0, output_tokens: 30, reasoning_output_tokens: 12 },
        context_tokens: 0,
      }],
    },
    {
      name: 'a failed turn as turn.failed with its error message',
      result: result({ status: 'failed', error: { type: 'ModelAuthenticationFailed', message: 'openai answered 401: bad key' } }),
      expected: [{ type: 'turn.failed', error: { message: 'openai answered 401: bad key' } }],
    },
    {
      name: 'an interrupted turn without error as turn.failed naming the status',
      result: result({ status: 'interrupted' }),
      expected: [{ type: 'turn.failed', error: { message: 'turn interrupted by the user' } }],
    },
  ])('finishes $name', ({ result: turnResult, expected }) => {
    expect(translator.finish(turnResult)).toEqual(expected);
  });

  it('adds the turn to the usage the thread had before it', () => {
    const before = { inputTokens: 1000, cachedInputTokens: 10, outputTokens: 5, reasoningOutputTokens: 1 };
    const [done] = translator.finish(result({ status: 'completed', contextTokens: 4321 }), before);
    expect(done).toMatchObject({ thread_usage: { input_tokens: 1120, cached_input_tokens: 110, output_tokens: 35, reasoning_output_tokens: 13 }, context_tokens: 4321 });
  });
});

describe('execUsage', () => {
  it('renames every usage field, with cache writes as codex exec --json 0.171 reports them', () => {
    expect(execUsage({ inputTokens: 1, cachedInputTokens: 2, outputTokens: 3, reasoningOutputTokens: 4, cacheWriteInputTokens: 5 })).toEqual({
      input_tokens: 1,
      cached_input_tokens: 2,
      cache_write_input_tokens: 5,
      output_tokens: 3,
      reasoning_output_tokens: 4,
    });
  });

  it('reports no cache writes for usage recorded before they were kept', () => {
    expect(execUsage({ inputTokens: 1, cachedInputTokens: 2, outputTokens: 3, reasoningOutputTokens: 4 }).cache_write_input_tokens).toBe(0);
  });
});

describe('shellOutputBody', () => {
  it.each([
    { name: 'strips the exit code and wall time header', text: SHELL_OUTPUT, expected: 'hi\n' },
    { name: 'keeps an empty output empty', text: 'Exit code: 0\nWall time: 0 seconds\nOutput:\n', expected: '' },
    { name: 'keeps later "Output:" lines of the command', text: 'Exit code: 0\nWall time: 0 seconds\nOutput:\na\nOutput:\nb', expected: 'a\nOutput:\nb' },
    { name: 'returns text without a header unchanged', text: 'aborted: interrupted', expected: 'aborted: interrupted' },
  ])('$name', ({ text, expected }) => {
    expect(shellOutputBody(text)).toBe(expected);
  });
});
