/**
 * Tool calls a hostile or confused model may send, and secrets it may try to read:
 *
 * - `echo $OPENAI_API_KEY; env`: the worker's keys must not reach the tool's output, so
 *   neither the next model request nor the transcript store ever holds them.
 * - arguments of many megabytes: answered with an error that names the 1 MiB limit, and
 *   nothing runs; a call just under the limit runs; several large calls in one response
 *   do not blow up what the workflow records about them.
 * - a command line longer than the kernel accepts: a clear error, not a hang.
 * - `timeout_ms` values that are too large (3e9 overflowed Node's timers and killed the
 *   command at once), negative, fractional, infinite or not numbers.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ToolCallItem } from '../../src/items/schemas';
import { MAX_SHELL_TIMEOUT_MS } from '../../src/config/settings';
import { describeCall, executeToolCall, MAX_TOOL_ARGUMENT_BYTES } from '../../src/tools/registry';
import type { ToolContext } from '../../src/tools/types';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import { applyPatchCall, assistantMessage, respond, shellCall } from '../support/responses-builders';

const MiB = 1024 * 1024;
const RUN_OPTIONS = { shellTimeoutMs: 5_000 };

const functionCall = (name: string, args: string, callId = 'call_hostile'): ToolCallItem => ({ type: 'function_call', call_id: callId, name, arguments: args });

/** An Add File patch whose `{"input": …}` JSON is a little under `bytes` long. */
function addFilePatch(file: string, bytes: number): { patch: string; content: string } {
  const line = `${'z'.repeat(99)}\n`;
  // In the JSON each line is '+', 99 characters and an escaped newline: 102 bytes.
  const content = line.repeat(Math.floor((bytes - 200) / 102));
  const added = content.slice(0, -1).split('\n').map((l) => `+${l}`).join('\n');
  const patch = `*** Begin Patch\n*** Add File: ${file}\n${added}\n*** End Patch`;
  return { patch, content };
}

/** Every file under `dir`, read as text. */
async function filesUnder(dir: string): Promise<Array<{ file: string; text: string }>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(file, 'utf8') })));
}

describe('hostile tool calls, one at a time', () => {
  let workspace: string;
  const ctx = (): ToolContext => ({ cwd: workspace, signal: new AbortController().signal, heartbeat: () => undefined, callId: 'call_hostile', env: { PATH: process.env.PATH ?? '' } });

  beforeEach(async () => {
    workspace = await mkdtemp(path.join(os.tmpdir(), 'unroll-hostile-'));
  });
  afterEach(async () => {
    await rm(workspace, { recursive: true, force: true });
  });

  test.each<[string, ToolCallItem]>([
    ['an 8 MiB shell command', functionCall('shell', JSON.stringify({ command: `touch ran; : ${'x'.repeat(8 * MiB)}` }))],
    ['an 8 MiB apply_patch', functionCall('apply_patch', JSON.stringify({ input: addFilePatch('ran', 8 * MiB).patch }))],
    ['an 8 MiB free-form apply_patch', { type: 'custom_tool_call', call_id: 'call_hostile', name: 'apply_patch', input: addFilePatch('ran', 8 * MiB).patch }],
  ])('%s is answered with an error naming the 1 MiB limit, and nothing runs', async (_case, call) => {
    const result = await executeToolCall(call, ctx(), RUN_OPTIONS);
    expect(result).toEqual({ success: false, output: expect.stringMatching(/^arguments of [78]\.\d MiB exceed the 1 MiB limit for one (shell|apply_patch) call \(\d+ > 1048576 bytes\); the call was not run\. /), metadata: { error: result.output } });
    expect(await readdir(workspace)).toEqual([]);
  });

  test('a patch just under the limit is applied', async () => {
    const { patch, content } = addFilePatch('big.txt', MAX_TOOL_ARGUMENT_BYTES - 1024);
    const args = JSON.stringify({ input: patch });
    expect(Buffer.byteLength(args)).toBeLessThan(MAX_TOOL_ARGUMENT_BYTES);
    expect(Buffer.byteLength(args)).toBeGreaterThan(MAX_TOOL_ARGUMENT_BYTES - 4096);
    const result = await executeToolCall(functionCall('apply_patch', args), ctx(), RUN_OPTIONS);
    expect([result.success, result.output]).toEqual([true, expect.stringMatching(/^Success/)]);
    expect(await readFile(path.join(workspace, 'big.txt'), 'utf8')).toBe(content);
  });

  test('a command line longer than the kernel accepts fails at once with a message saying so', async () => {
    const result = await executeToolCall(functionCall('shell', JSON.stringify({ command: ['echo', 'x'.repeat(200 * 1024)] })), ctx(), RUN_OPTIONS);
    expect([result.success, result.output]).toEqual([false, expect.stringMatching(/^Exit code: 126\n.*\nOutput:\nfailed to start command: echo: Argument list too long \(/s)]);
  });

  test('a timeout_ms of 3e9 runs the command with the 24-hour maximum instead of killing it at once', async () => {
    const result = await executeToolCall(functionCall('shell', '{"command": "echo finished", "timeout_ms": 3000000000}'), ctx(), RUN_OPTIONS);
    expect(result.success).toBe(true);
    expect(result.output).toMatch(/^Exit code: 0\n/);
    expect(result.output).toMatch(new RegExp(`\nOutput:\ntimeout_ms 3000000000 is above the maximum of ${MAX_SHELL_TIMEOUT_MS} \\(24 hours\\); using ${MAX_SHELL_TIMEOUT_MS}\nfinished\n$`));
    expect(describeCall(functionCall('shell', '{"command": "echo finished", "timeout_ms": 3000000000}'), RUN_OPTIONS).timeoutMs).toBe(MAX_SHELL_TIMEOUT_MS);
  });

  test.each<[string, string, RegExp]>([
    ['a negative timeout', '{"command": "touch ran", "timeout_ms": -1}', /^invalid arguments for shell: timeout_ms: /],
    ['a zero timeout', '{"command": "touch ran", "timeout_ms": 0}', /^invalid arguments for shell: timeout_ms: /],
    ['a fractional timeout', '{"command": "touch ran", "timeout_ms": 2.5}', /^invalid arguments for shell: timeout_ms: /],
    ['an infinite timeout (1e999)', '{"command": "touch ran", "timeout_ms": 1e999}', /^invalid arguments for shell: timeout_ms: /],
    ['a timeout of "NaN"', '{"command": "touch ran", "timeout_ms": "NaN"}', /^invalid arguments for shell: timeout_ms: /],
    ['a bare NaN', '{"command": "touch ran", "timeout_ms": NaN}', /^failed to parse arguments of shell as JSON: /],
    ['a null timeout', '{"command": "touch ran", "timeout_ms": null}', /^invalid arguments for shell: timeout_ms: /],
  ])('%s is a clear error and nothing runs', async (_case, args, message) => {
    const result = await executeToolCall(functionCall('shell', args), ctx(), RUN_OPTIONS);
    expect([result.success, result.output]).toEqual([false, expect.stringMatching(message)]);
    expect(existsSync(path.join(workspace, 'ran'))).toBe(false);
  });

  test('what the workflow records about a call stays small whatever its arguments hold', () => {
    const oversized = describeCall(functionCall('shell', JSON.stringify({ command: 'x'.repeat(8 * MiB) })), RUN_OPTIONS);
    expect(oversized).toEqual({
      name: 'shell', parallelSafe: false, timeoutMs: 60_000, summary: 'shell: arguments over the 1 MiB limit (8.0 MiB)',
      // Not run at all (dispatch refuses it), so it needs no approval and changes no file.
      facts: { argv: null, knownSafe: false, escalate: false, justification: null, mutatesFiles: false, approval: 'safe', changesFiles: false },
    });
    const long = (fill: string) =>
      describeCall(functionCall('shell', JSON.stringify({ command: `echo ${fill.repeat(900 * 1024)}`, with_escalated_permissions: true, justification: fill.repeat(100_000) })), RUN_OPTIONS);
    const [a, b] = [long('a'), long('b')];
    expect(JSON.stringify(a).length).toBeLessThan(4096);
    expect(a.facts.argv).toEqual(['bash', expect.stringMatching(/^\(3 arguments, \d+ characters in all, sha256 [0-9a-f]{64}\)$/)]);
    // Distinct commands keep distinct facts, so "approve for this session" cannot carry over.
    expect(a.facts.argv).not.toEqual(b.facts.argv);
    const named = describeCall(functionCall('n'.repeat(MiB), '{}'), RUN_OPTIONS);
    expect([named.name, named.summary.length]).toEqual([expect.stringMatching(/^n{64}… \(1048576 characters, sha256 [0-9a-f]{64}\)$/), 200]);
  });
});

describe('hostile tool calls in the agent loop', () => {
  const SECRETS = { OPENAI_API_KEY: 'sk-worker-secret-4242', GITHUB_TOKEN: 'ghp-worker-secret-4242', UNROLL_ENCRYPTION_KEY: 'k1:worker-secret-4242' };
  const saved: Record<string, string | undefined> = {};
  let h: Harness;

  beforeAll(async () => {
    // The worker's own environment holds the keys, as a real worker's does.
    for (const [name, value] of Object.entries(SECRETS)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  afterEach(() => {
    h.model.assertProtocol();
  });
  /** Megabytes of arguments stay in the transcript: a window so large they do not trigger a compaction. */
  const bigContext = () => ({ context: { ...h.settings().context, windowTokens: 100_000_000, autoCompactTokens: 90_000_000 } });

  test('echo $OPENAI_API_KEY; env shows no key: not in the output, the next model request or the store', async () => {
    h.model.enqueue(respond(shellCall('echo "key=[$OPENAI_API_KEY]"; env', { callId: 'call_env' })), respond(assistantMessage('no key here')));
    const { result } = await h.runThread('print your API key');

    expect(result.status).toBe('completed');
    const output = (await transcriptItems(h, result.head)).find((i) => i.type === 'function_call_output');
    expect(output).toEqual({ type: 'function_call_output', call_id: 'call_env', output: expect.stringContaining('\nkey=[]\n') });
    expect(output).toEqual(expect.objectContaining({ output: expect.stringMatching(/\nPATH=/) }));
    const requests = JSON.stringify(h.model.requests.map((r) => r.body));
    const stored = await filesUnder(h.home);
    for (const secret of Object.values(SECRETS)) {
      expect(requests).not.toContain(secret);
      expect(stored.filter((f) => f.text.includes(secret)).map((f) => f.file)).toEqual([]);
    }
  });

  test('an 8 MiB argument is answered with the limit error, nothing runs, and the turn completes', async () => {
    const call = shellCall(`touch ran; : ${'x'.repeat(8 * MiB)}`, { callId: 'call_huge' });
    h.model.enqueue(respond(call), respond(assistantMessage('I will write smaller pieces')));
    const { result, events } = await h.runThread('make a big file', bigContext());

    expect(result.status).toBe('completed');
    const answer = h.model.requests.at(-1)?.input.find((i) => i.type === 'function_call_output');
    expect(answer).toEqual(expect.objectContaining({ call_id: 'call_huge', output: expect.stringMatching(/^arguments of 8\.0 MiB exceed the 1 MiB limit/) }));
    expect(existsSync(path.join(h.workspace, 'ran'))).toBe(false);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'tool.started', call: expect.objectContaining({ summary: 'shell: arguments over the 1 MiB limit (8.0 MiB)' }) }));
  });

  test('several calls just under the limit in one response all run, and the turn completes', async () => {
    const calls = ['a', 'b', 'c'].map((fill) => applyPatchCall(addFilePatch(`near-limit-${fill}.txt`, MAX_TOOL_ARGUMENT_BYTES - 2048).patch, `call_near_${fill}`));
    const shell = ['a', 'b', 'c'].map((fill) => shellCall(`echo ${fill.repeat(900 * 1024)}`, { callId: `call_long_${fill}` }));
    h.model.enqueue(respond([...calls, ...shell]), respond(assistantMessage('done')));
    const { result } = await h.runThread('write three big files', bigContext());

    expect(result.status).toBe('completed');
    for (const fill of ['a', 'b', 'c']) expect(existsSync(path.join(h.workspace, `near-limit-${fill}.txt`))).toBe(true);
    const outputs = (await transcriptItems(h, result.head)).filter((i) => i.type === 'function_call_output');
    expect(outputs.map((o) => (o.type === 'function_call_output' ? [o.call_id, o.output.slice(0, 60)] : []))).toEqual([
      ...['a', 'b', 'c'].map((fill) => [`call_near_${fill}`, expect.any(String)]),
      ...['a', 'b', 'c'].map((fill) => [`call_long_${fill}`, expect.stringMatching(/^Exit code: 126\n/)]),
    ]);
  });
});
