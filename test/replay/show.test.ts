/**
 * `unroll show` on a real run: a two-turn thread with tool calls, a compaction and a
 * retried request, recorded on the dev server and read back from its histories and the
 * store. The step list is compared field by field, and `--step` must rebuild exactly the
 * request the scripted server received.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { stepDetail } from '../../src/client/show';
import type { SessionSettings } from '../../src/config/settings';
import { buildThreadRun } from '../../src/history/build-run';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import type { ThreadRun } from '../../src/history/thread-run';
import { startHarness, type Harness } from '../support/harness';
import { applyPatchCall, assistantMessage, httpError, reasoning, respond, shellCall, updatePlanCall } from '../support/responses-builders';

jest.setTimeout(120_000);

const SMALL_CONTEXT: Partial<SessionSettings> = {
  context: { windowTokens: 100_000, autoCompactTokens: 2_000, compaction: 'local', recentUserMessageTokens: 1_000, stepsPerRun: null },
};

describe('unroll show', () => {
  let h: Harness;
  let threadId: string;
  let run: ThreadRun;
  let first: number;

  beforeAll(async () => {
    h = await startHarness();
    await writeFile(path.join(h.workspace, 'big.txt'), 'y'.repeat(9_000) + '\n');
    first = h.model.requests.length;
    h.model.enqueue(
      respond([reasoning('Reading the file first', 'enc-1'), shellCall(['cat', 'big.txt'])]),
      respond(assistantMessage('SUMMARY: big.txt holds 9000 y characters.')),
      httpError(500),
      respond(assistantMessage('It is all y.')),
    );
    const one = await h.runThread('what is in big.txt?', SMALL_CONTEXT);
    threadId = one.threadId;
    expect(one.result.status).toBe('completed');
    h.model.enqueue(
      respond(applyPatchCall('*** Begin Patch\n*** Add File: notes.txt\n+all y\n*** End Patch')),
      respond(updatePlanCall([{ step: 'write notes', status: 'completed' }])),
      respond(assistantMessage('Wrote notes.txt.')),
    );
    const two = await h.runTurn(threadId, 'write that down');
    expect(two.result.status).toBe('completed');
    h.model.assertProtocol();
    run = JSON.parse(JSON.stringify(await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store))) as ThreadRun;
  });
  afterAll(async () => {
    await h.close();
  });

  test('the thread has its settings, both turns and their user inputs', () => {
    expect(run).toMatchObject({ threadId, status: 'running', origin: null, settings: { model: 'test-model', cwd: h.workspace } });
    expect(run.turns.map((t) => [t.turn, t.status, t.userText, t.steps.map((s) => s.id)])).toEqual([
      [1, 'completed', 'what is in big.txt?', ['1.1', '1.2']],
      [2, 'completed', 'write that down', ['2.1', '2.2', '2.3']],
    ]);
    expect(run.usage.inputTokens).toBe(run.turns[0].usage.inputTokens + run.turns[1].usage.inputTokens);
  });

  test('a step lists its reasoning, its tool call with arguments, exit code, duration and output, and its tokens', () => {
    const step = run.turns[0].steps[0];
    expect(step.reasoning).toEqual(['Reading the file first']);
    expect(step.messages).toEqual([]);
    expect(step.toolCalls).toHaveLength(1);
    expect(step.toolCalls[0]).toMatchObject({ name: 'shell', arguments: JSON.stringify({ command: ['cat', 'big.txt'] }), status: 'completed', exitCode: 0, fallbackOutput: false });
    expect(step.toolCalls[0].output).toContain('y'.repeat(100));
    expect(step.toolCalls[0].durationMs).toEqual(expect.any(Number));
    expect(step.usage?.inputTokens).toBeGreaterThan(0);
    expect(step.inference).toMatchObject({ name: 'runInference', summary: 'inference #1', attempts: 1, outcome: 'completed', lastRetryFailure: null });
    expect(step.request.head).toBe(run.turns[0].setup?.result && (run.turns[0].setup.result as { head: string }).head);
  });

  test('the compaction before step 1.2 is shown with its activity and the new root', () => {
    const step = run.turns[0].steps[1];
    expect(step.before.map((a) => a.name)).toEqual(['commitAppend', 'compactTranscript']);
    expect(step.compaction).toMatchObject({ activity: { name: 'compactTranscript', outcome: 'completed', result: { mode: 'local', reason: 'auto' } } });
    expect(step.compaction?.rootItems).toBeGreaterThan(0);
    expect(run.turns[0].steps[0].compaction).toBeNull();
    expect(run.turns[1].compaction).toBeNull();
    expect(run.turns[1].steps.every((s) => s.compaction === null)).toBe(true);
  });

  test('the retried request shows its attempt count and the error of the failed attempt', () => {
    const step = run.turns[0].steps[1];
    expect(step.inference.attempts).toBe(2);
    expect(step.inference.lastRetryFailure).toMatch(/500/);
    expect(step.messages).toEqual(['It is all y.']);
    expect(step.toolCalls).toEqual([]);
  });

  test('tools of the second turn are listed in call order with their outcomes', () => {
    const calls = run.turns[1].steps.flatMap((s) => s.toolCalls.map((c) => [s.id, c.name, c.status]));
    expect(calls).toEqual([
      ['2.1', 'apply_patch', 'completed'],
      ['2.2', 'update_plan', 'completed'],
    ]);
    expect(run.turns[1].steps[0].toolCalls[0].metadata).toMatchObject({ changes: [{ kind: 'A', path: 'notes.txt' }] });
    expect(run.turns[1].steps[2].messages).toEqual(['Wrote notes.txt.']);
  });

  test('--step rebuilds exactly the request the provider received', async () => {
    // Requests: 0 step 1.1, 1 the compaction summary, 2 and 3 step 1.2 (500, then the retry), 4-6 turn 2.
    const detail = await stepDetail(run, '1.2', undefined, h.store);
    const received = h.model.requests[first + 3];
    expect(detail.step.id).toBe('1.2');
    expect(detail.request.input).toEqual(received.input);
    expect(h.model.requests[first + 2].input).toEqual(received.input);
    for (const key of ['model', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'store', 'prompt_cache_key']) {
      expect([key, detail.request[key]]).toEqual([key, received.body[key]]);
    }
    const later = await stepDetail(run, '2', 2, h.store);
    expect(later.request.input).toEqual(h.model.requests[first + 5].input);
  });
});
