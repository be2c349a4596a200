/**
 * The debugging commands as a user runs them: the compiled CLI in child processes
 * against the suite's dev server, on a thread recorded with the scripted Responses
 * server (`npm run build` first). threads, show (list and --step), fork with an edited
 * output, diff, and the usage errors that exit 2.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { settled } from '../replay/corpus-scenarios';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, httpError, reasoning, respond, shellCall } from '../support/responses-builders';
import { offlineEnv, runCli } from './run-cli';

jest.setTimeout(180_000);

describe('unroll threads / show / fork / diff', () => {
  let h: Harness;
  let threadId: string;
  let env: Record<string, string | undefined>;
  const call = shellCall('echo hello-debug');

  beforeAll(async () => {
    h = await startHarness();
    h.model.enqueue(respond([reasoning('Say hello first', 'enc-debug'), call]), httpError(500), respond(assistantMessage('It said hello-debug.')));
    threadId = (await h.runThread('say hello')).threadId;
    h.model.enqueue(respond(assistantMessage('bye')));
    await h.runTurn(threadId, 'now leave');
    await settled(h, threadId);
    env = { ...offlineEnv(h.home), UNROLL_TEMPORAL_ADDRESS: h.address, UNROLL_TASK_QUEUE: `cli-${randomUUID()}`, OPENAI_API_KEY: 'test-key' };
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => h.model.assertProtocol());

  test('threads lists the thread with its turns, tokens and last message', async () => {
    const run = await runCli(['threads', '--json', '--limit', '1000'], env, h.workspace);
    expect(run.code).toBe(0);
    const listed = (JSON.parse(run.stdout) as { threadId: string }[]).find((t) => t.threadId === threadId);
    // The harness's thread records no host pin (as threads from before pins).
    expect(listed).toMatchObject({ status: 'running', runs: 1, turns: 2, runningTurn: null, lastMessage: 'bye', origin: null, host: null });
    expect((listed as unknown as { usage: { inputTokens: number } }).usage.inputTokens).toBeGreaterThan(0);
    const human = await runCli(['threads', '--since', '1h', '--limit', '1000'], env, h.workspace);
    expect(human.stdout).toMatch(/^THREAD\s+CREATED\s+STATUS\s+TURNS\s+TOKENS\s+HOST\s+LAST MESSAGE/);
    expect(human.stdout).toMatch(new RegExp(`${threadId}\\s+\\S+ \\S+\\s+running\\s+2\\s+\\d+\\s+-\\s+bye`));
    const none = await runCli(['threads', '--status', 'terminated', '--json', '--limit', '1000'], env, h.workspace);
    expect((JSON.parse(none.stdout) as { threadId: string }[]).some((t) => t.threadId === threadId)).toBe(false);
  });

  test('show prints the numbered steps with reasoning, the tool call, the retry and the answers', async () => {
    const run = await runCli(['show', threadId], env, h.workspace);
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toContain(`thread ${threadId} · running`);
    expect(out).toMatch(/turn 1 · completed · 2 step\(s\)/);
    expect(out).toContain('user say hello');
    expect(out).toMatch(/1\.1 {2}request 3 items, [\d,]+ B · \d+ in \(0 cached\) · \d+ out/);
    expect(out).toContain('thinking Say hello first');
    expect(out).toMatch(new RegExp(`▸ shell ${call.call_id} \\{"command":"echo hello-debug"\\}  → exit 0 · \\d+ ms`));
    expect(out).toContain('│ hello-debug');
    expect(out).toMatch(/1\.2 {2}request/);
    expect(out).toMatch(/retried: 2 attempts; last error: .*500/);
    expect(out).toContain('assistant It said hello-debug.');
    expect(out).toMatch(/turn 2 · completed · 1 step\(s\)/);
    expect(out).toContain('assistant bye');
  });

  test('show --step prints one step in full with the request that was sent', async () => {
    const run = await runCli(['show', threadId, '--step', '1.2'], env, h.workspace);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('request sent at step 1.2');
    expect(run.stdout).toContain('  model: "test-model"');
    expect(run.stdout).toMatch(/ {2}input: 6 items/);
    expect(run.stdout).toContain(`function_call_output ${call.call_id}`);
    const json = await runCli(['show', threadId, '--turn', '1', '--step', '2', '--json'], env, h.workspace);
    expect(JSON.parse(json.stdout).request.input).toHaveLength(6);
  });

  test('fork with an edited output runs the next turn live, and diff finds the divergence after the fork point', async () => {
    const edit = path.join(h.workspace, 'edited.txt');
    await writeFile(edit, 'EDITED OUTPUT');
    h.model.enqueue(respond(assistantMessage('It said EDITED OUTPUT.')));
    const before = h.model.requests.length;
    const fork = await runCli(['fork', threadId, '--at', '1.1', '--edit-output', `${call.call_id}=${edit}`, '--message', 'what did it say?'], env, h.workspace);
    expect(fork.code).toBe(0);
    expect(fork.stdout).toBe('It said EDITED OUTPUT.\n');
    const forkId = /thread: (th-[\w-]+)/.exec(fork.stderr)?.[1];
    expect(forkId).toBeDefined();
    expect(fork.stderr).toContain(`forked from: ${threadId} at 1.1 (output of ${call.call_id} edited)`);
    const sent = h.model.requests[before].input;
    expect(sent.filter((i) => i.type === 'function_call_output').map((i) => i.output)).toEqual(['EDITED OUTPUT']);

    const shown = await runCli(['show', forkId!], env, h.workspace);
    expect(shown.stdout).toContain(`forked from ${threadId} at step 1.1 (output of ${call.call_id} edited; model test-model)`);

    const diff = await runCli(['diff', threadId, forkId!], env, h.workspace);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain(`B is a fork of ${threadId} at 1.1, output of ${call.call_id} edited`);
    expect(diff.stdout).toMatch(/A 1\.2\s+↔ B 1\.1\s+DIVERGES/);
    expect(diff.stdout).toContain(`B function_call_output ${call.call_id}: EDITED OUTPUT`);
    expect(diff.stdout).toContain('first divergence: A 1.2 ↔ B 1.1');
    const same = await runCli(['diff', threadId, threadId], env, h.workspace);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('no divergence');
  });

  test.each([
    [['show', 'THREAD', '--step', 'x.y'], 'is not a step'],
    [['show', 'THREAD', '--step', '9.1'], 'has no turn 9'],
    [['show', 'THREAD', '--turn', '0'], '--turn expects a positive whole number'],
    [['show', 'th-does-not-exist'], 'thread th-does-not-exist not found'],
    [['show', './missing.unroll.gz'], 'no such bundle file'],
    [['fork', 'THREAD'], 'fork needs --at'],
    [['fork', 'THREAD', '--at', '1.1', '--edit-output', 'nonsense'], '--edit-output expects <callId>=<file>'],
    [['threads', '--status', 'bogus'], '--status expects one of'],
    [['threads', '--since', 'yesterday-ish'], '--since expects'],
    [['export', 'THREAD'], 'export needs -o'],
    [['import', './missing.unroll.gz'], 'no such file: '],
  ])('unroll %j exits 2 with a message', async (args, message) => {
    const before = h.model.requests.length;
    const run = await runCli(args.map((a) => (a === 'THREAD' ? threadId : a)), env, h.workspace);
    expect(run.stderr).toContain(message);
    expect(run.code).toBe(2);
    expect(h.model.requests.length).toBe(before);
  });
});
