/**
 * Context management: auto-compaction before and during a turn (local summary and
 * remote /responses/compact), recovery from context_length_exceeded, manual
 * compaction, rules re-injected after compaction, model switches that keep the prompt
 * prefix, and long turns that continue-as-new. The scripted server checks on every
 * request that the input extends the previous one except right after a compaction.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { compactThread, followTurn, startThread, submitTurn } from '../../src/client/threads';
import type { SessionSettings } from '../../src/config/settings';
import { SUMMARIZATION_PROMPT } from '../../src/prompt/compaction';
import type { TurnEvent } from '../../src/workflows/definitions';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';

const SMALL_CONTEXT = (compaction: 'local' | 'remote'): Partial<SessionSettings> => ({
  context: { windowTokens: 100_000, autoCompactTokens: 2_000, compaction, recentUserMessageTokens: 1_000, stepsPerRun: null },
});

const texts = (input: readonly unknown[]) => JSON.stringify(input);
const lastInputText = (input: readonly unknown[]) => texts(input.slice(-1));

describe('context management', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await writeFile(path.join(h.workspace, 'big.txt'), 'y'.repeat(9_000) + '\n');
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => h.model.assertProtocol());

  test('a turn over the limit after a tool step compacts locally and continues from the replacement history', async () => {
    h.model.enqueue(
      respond(shellCall(['cat', 'big.txt'])),
      respond(assistantMessage('SUMMARY: the file is 9000 y characters.')),
      respond(assistantMessage('The file is all y.')),
    );
    const { result, events } = await h.runThread('what is in big.txt?', SMALL_CONTEXT('local'));
    expect(result.status).toBe('completed');
    expect(result.compactions).toBe(1);
    const [, summaryRequest, next] = h.model.requests.slice(-3);
    expect(lastInputText(summaryRequest.input)).toContain(SUMMARIZATION_PROMPT.slice(0, 40));
    expect(summaryRequest.body.tool_choice).toBe('none');
    expect(texts(next.input)).toContain('SUMMARY: the file is 9000 y characters.');
    expect(texts(next.input)).toContain('what is in big.txt?');
    expect(next.input.some((i) => i.type === 'function_call')).toBe(false);
    const compaction = events.find((e): e is Extract<TurnEvent, { kind: 'compaction' }> => e.kind === 'compaction');
    expect(compaction?.compaction).toMatchObject({ reason: 'auto', mode: 'local' });
    expect(compaction!.compaction.tokensAfter).toBeLessThan(compaction!.compaction.tokensBefore);
    expect(result.contextTokens).toBeLessThan(2_000);
  });

  test('a thread over the limit compacts remotely before the next turn, and AGENTS.md rules come back', async () => {
    const repo = path.join(h.workspace, 'repo');
    await mkdir(path.join(repo, '.git'), { recursive: true });
    await writeFile(path.join(repo, 'AGENTS.md'), 'Always answer in haiku.\n');
    h.model.enqueue(respond(assistantMessage('first'), { usage: { input_tokens: 5_000, output_tokens: 10 } }));
    const { threadId } = await h.runThread('turn one', { ...SMALL_CONTEXT('remote'), cwd: repo });
    const before = h.model.compactRequests.length;
    h.model.enqueue(respond(assistantMessage('second')));
    const { result, events } = await h.runTurn(threadId, 'turn two');
    expect(result.status).toBe('completed');
    expect(h.model.compactRequests).toHaveLength(before + 1);
    const compactInput = texts(h.model.compactRequests[before].input);
    expect(compactInput).toContain('turn one');
    expect(compactInput).toContain('turn two');
    const after = h.model.requests[h.model.requests.length - 1];
    expect(after.input.some((i) => i.type === 'compaction')).toBe(true);
    expect(texts(after.input)).toContain('Always answer in haiku.');
    expect(texts(after.input).match(/Always answer in haiku/g)).toHaveLength(1);
    expect(events.some((e) => e.kind === 'compaction')).toBe(true);
  });

  test('context_length_exceeded triggers a compaction and one retry of the step', async () => {
    h.model.enqueue(
      { kind: 'http-error', status: 400, body: { error: { message: 'Your input exceeds the context window of this model.', type: 'invalid_request_error', code: 'context_length_exceeded' } } },
      respond(assistantMessage('SUMMARY: nothing yet.')),
      respond(assistantMessage('recovered')),
    );
    const { result } = await h.runThread('a long task', SMALL_CONTEXT('local'));
    expect(result.status).toBe('completed');
    expect(result.compactions).toBe(1);
    expect(result.lastMessage?.excerpt).toBe('recovered');
  });

  test('a compaction request that itself overflows drops the oldest items and retries', async () => {
    h.model.enqueue(
      respond(shellCall(['cat', 'big.txt'])),
      { kind: 'http-error', status: 400, body: { error: { message: 'context window exceeded', type: 'invalid_request_error', code: 'context_length_exceeded' } } },
      respond(assistantMessage('SUMMARY: trimmed.')),
      respond(assistantMessage('done')),
    );
    const { result, events } = await h.runThread('read big.txt', SMALL_CONTEXT('local'));
    expect(result.status).toBe('completed');
    const compaction = events.find((e): e is Extract<TurnEvent, { kind: 'compaction' }> => e.kind === 'compaction');
    expect(compaction!.compaction.droppedItems).toBeGreaterThan(0);
    const [firstTry, secondTry] = h.model.requests.slice(-3, -1);
    expect(secondTry.input.length).toBeLessThan(firstTry.input.length);
  });

  test('a manual compaction between turns replaces the history the next turn starts from', async () => {
    h.model.enqueue(respond(shellCall(['cat', 'big.txt'])), respond(assistantMessage('read')));
    const { threadId } = await h.runThread('read the file', { context: { ...SMALL_CONTEXT('remote').context!, autoCompactTokens: 90_000 } });
    const summary = await compactThread(h.client, threadId);
    expect(summary).toMatchObject({ reason: 'manual', mode: 'remote', droppedItems: 0 });
    expect(summary.tokensAfter).toBeLessThan(summary.tokensBefore);
    h.model.enqueue(respond(assistantMessage('after compaction')));
    await h.runTurn(threadId, 'and now?');
    const last = h.model.requests[h.model.requests.length - 1];
    expect(last.input.some((i) => i.type === 'function_call')).toBe(false);
    expect(last.input.some((i) => i.type === 'compaction')).toBe(true);
  });

  test('a model switch mid-thread appends a developer message and keeps the prefix', async () => {
    h.model.enqueue(respond(assistantMessage('one')));
    const { threadId } = await h.runThread('first');
    const before = h.model.requests[h.model.requests.length - 1];
    h.model.enqueue(respond(assistantMessage('two')));
    const started = await submitTurn(h.client, threadId, 'second', { model: 'other-model' });
    await followTurn(h.client, started.turnWorkflowId, () => undefined);
    const after = h.model.requests[h.model.requests.length - 1];
    expect(after.body.model).toBe('other-model');
    expect(after.input.slice(0, before.input.length)).toEqual(before.input);
    expect(lastInputText(after.input)).toContain('second');
    expect(texts(after.input.slice(before.input.length))).toContain('<model_switch>');
    expect(texts(after.input.slice(before.input.length))).toContain('from test-model to other-model');
  });

  test('a long turn continues-as-new and finishes every step', async () => {
    let served = 0;
    h.model.setHandler(() => (++served < 7 ? respond(shellCall(['echo', `step ${served}`])) : respond(assistantMessage('seven steps'))));
    const threadId = `can-${randomUUID()}`;
    const settings = h.settings({ context: { ...SMALL_CONTEXT('local').context!, autoCompactTokens: 90_000, stepsPerRun: 2 } });
    const started = await startThread(h.client, { threadId, settings, text: 'count', taskQueue: h.taskQueue });
    const events: TurnEvent[] = [];
    const result = await followTurn(h.client, started.turnWorkflowId, (e) => void events.push(e), { pollMs: 20 });
    h.model.setHandler(() => respond(assistantMessage('unexpected')));
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(7);
    expect(result.lastMessage?.excerpt).toBe('seven steps');
    const runs = [];
    for await (const run of h.client.workflow.list({ query: `WorkflowId = '${started.turnWorkflowId}'` })) runs.push(run);
    expect(runs.length).toBeGreaterThanOrEqual(4);
    expect(events.filter((e) => e.kind === 'step.started').map((e) => (e as { step: number }).step)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
