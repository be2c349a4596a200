/**
 * Bad input that reaches the workflows: prompts over the size limit, a provider that
 * refuses a manual compaction, a model that repeats a call_id within one response, and
 * a custom (freeform) tool call that never runs because the user said no. None of them
 * may fail a session, leave an empty session behind, run a call with another call's
 * output, or write an output of the wrong type for its call.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { answerApproval, pendingApprovals } from '../../src/client/intervene';
import { compactThread, describeThread, followTurn, startThread } from '../../src/client/threads';
import { buildThreadRun } from '../../src/history/build-run';
import { replayThread } from '../../src/history/replay';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { isToolCall, isToolOutput } from '../../src/items/schemas';
import { InvalidUserInputError, MAX_USER_INPUT_BYTES, assertValidUserInput, userInputProblem } from '../../src/shared/user-input';
import { ABORTED_BY_USER } from '../../src/workflows/turn';
import { MAX_MALFORMED_RESPONSE_RETRIES } from '../../src/workflows/decisions';
import { startHarness, testEnvironment, transcriptItems, type Harness } from '../support/harness';
import { assistantMessage, customToolCall, httpError, respond, shellCall } from '../support/responses-builders';
import { waitFor } from '../support/worker-process';

jest.setTimeout(120_000);

const UNAUTHORIZED = httpError(401, { error: { message: 'Incorrect API key provided: sk-wrong', type: 'invalid_request_error', code: 'invalid_api_key', param: null } });

/** A freeform apply_patch call that adds one file. */
const addFilePatch = (file: string) => `*** Begin Patch\n*** Add File: ${file}\n+written\n*** End Patch`;

describe('the client-side input check', () => {
  test.each([
    ['an empty prompt', '', /empty/],
    ['a prompt of blanks', ' \n\t ', /empty/],
    ['a prompt one byte over the limit', 'x'.repeat(MAX_USER_INPUT_BYTES + 1), new RegExp(`${MAX_USER_INPUT_BYTES + 1} bytes; the limit is ${MAX_USER_INPUT_BYTES} bytes`)],
    ['a prompt of multi-byte characters over the limit', 'é'.repeat(MAX_USER_INPUT_BYTES / 2 + 1), /the limit is 262144 bytes/],
  ])('rejects %s with a message that says what is wrong', (_name, text, message) => {
    expect(userInputProblem(text)).toMatch(message);
    expect(() => assertValidUserInput(text)).toThrow(InvalidUserInputError);
    expect(() => assertValidUserInput(text)).toThrow(message);
  });

  test('accepts a prompt of exactly the limit', () => {
    expect(userInputProblem('x'.repeat(MAX_USER_INPUT_BYTES))).toBeNull();
  });
});

describe('bad input reaching the workflows', () => {
  let h: Harness;
  let firstRequest: number;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    firstRequest = h.model.requests.length;
  });
  afterEach(() => {
    h.model.assertProtocol();
    expect(h.model.pending()).toBe(0);
  });
  const requestsSinceStart = () => h.model.requests.slice(firstRequest);

  describe.each([
    ['an empty prompt', '', /input text is empty/],
    ['a 300 KB prompt', 'x'.repeat(300 * 1024), /the limit is 262144 bytes/],
    // Over the server's 4 MB gRPC limit, it is refused before it reaches the workflow,
    // unless the client checked it first (then the message names Unroll's limit).
    ['a 5 MB prompt', 'y'.repeat(5 * 1024 * 1024), /the limit is 262144 bytes|larger than max/],
  ])('%s', (_name, text, message) => {
    test('is refused with an error that names the problem, and leaves no session running', async () => {
      const threadId = `refused-${randomUUID()}`;
      const error = await startThread(h.client, { threadId, settings: h.settings(), text, taskQueue: h.taskQueue }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(Error);
      const described = `${(error as Error).message}: ${String((error as { cause?: Error }).cause?.message)}`;
      expect(described).toMatch(message);
      // Whether the request reached the workflow or not, nothing may be left waiting.
      await waitFor('the refused session to end', async () => {
        try {
          return (await h.client.workflow.getHandle(threadId).describe()).status.name !== 'RUNNING';
        } catch {
          return true; // never started
        }
      });
      expect(requestsSinceStart()).toEqual([]);
      // A session that did start (the input reached its validator) ended at once, and replays so.
      const histories = await fetchThreadHistories(h.client, threadId).catch(() => null);
      if (histories) expect((await replayThread(histories, { workflowBundlePath: testEnvironment().bundlePath })).filter((o) => !o.ok)).toEqual([]);
    });
  });

  test.each([
    ['local', UNAUTHORIZED],
    ['remote', null],
  ] as const)('a %s manual compaction the provider answers with 401 fails only the compaction; the next turn succeeds', async (mode, step) => {
    const context = { windowTokens: 100_000, autoCompactTokens: 90_000, compaction: mode, recentUserMessageTokens: 1_000, stepsPerRun: null };
    h.model.enqueue(respond(assistantMessage('hello')));
    const { threadId, result } = await h.runThread('say hello', { context });
    expect(result.status).toBe('completed');

    if (step) h.model.enqueue(step);
    else h.model.enqueueCompact({ kind: 'http-error', status: 401, body: { error: { message: 'Incorrect API key provided: sk-wrong', type: 'invalid_request_error', code: 'invalid_api_key', param: null } } });
    const error = await compactThread(h.client, threadId).then(() => null, (err: unknown) => err);
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((error as WorkflowUpdateFailedError).cause?.message).toMatch(/Incorrect API key provided/);

    const view = await describeThread(h.client, threadId);
    expect(view).toMatchObject({ turns: 1, head: result.head, runningTurn: null });
    // The refused summary request was never served: the next request need not extend it.
    if (step) h.model.allowPrefixBreak(threadId);
    h.model.enqueue(respond(assistantMessage('still here')));
    const next = await h.runTurn(threadId, 'are you still there?');
    expect(next.result).toMatchObject({ status: 'completed', lastMessage: expect.objectContaining({ excerpt: 'still here' }) });
    expect((await h.client.workflow.getHandle(threadId).describe()).status.name).toBe('RUNNING');
  });

  test('a response with two calls sharing a call_id is rejected and asked again; neither call runs', async () => {
    const one = shellCall('echo one >> dup.txt', { callId: 'call_dup' });
    const two = shellCall('echo two >> dup.txt', { callId: 'call_dup' });
    h.model.enqueue(respond([one, two]), respond(assistantMessage('answered properly')));
    const { threadId, result } = await h.runThread('make two calls');

    expect(result).toMatchObject({ status: 'completed', steps: 1, lastMessage: expect.objectContaining({ excerpt: 'answered properly' }) });
    expect(existsSync(path.join(h.workspace, 'dup.txt'))).toBe(false);
    const [first, again] = requestsSinceStart();
    expect(again.input).toEqual(first.input);
    const items = await transcriptItems(h, result.head);
    expect(items.filter((i) => isToolCall(i) || isToolOutput(i))).toEqual([]);
    // `show` lists the rejected response under its step, and the step's calls are the accepted response's (none).
    const histories = await fetchThreadHistories(h.client, threadId);
    const run = await buildThreadRun(histories, h.store);
    expect(run.turns[0].steps.map((s) => [s.id, s.rejected.map((r) => r.failure), s.toolCalls.length, s.messages])).toEqual([
      ['1.1', ['response rejected: its calls repeat a call_id'], 0, ['answered properly']],
    ]);
    const outcomes = await replayThread(histories, { workflowBundlePath: testEnvironment().bundlePath });
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  });

  test('a model that keeps repeating a call_id ends the turn as failed with a clear error after a bounded number of requests', async () => {
    const attempts = MAX_MALFORMED_RESPONSE_RETRIES + 1;
    for (let i = 0; i < attempts; i++) {
      h.model.enqueue(respond([shellCall('echo a >> again.txt', { callId: 'call_same' }), shellCall('echo b >> again.txt', { callId: 'call_same' })]));
    }
    const { threadId, result } = await h.runThread('keep repeating');

    expect(result.status).toBe('failed');
    expect(result.error).toEqual({
      type: 'ModelOutputMalformed',
      message: `the model's response had 2 calls with call_id "call_same" (${attempts} responses in a row); none of them was run`,
    });
    expect(requestsSinceStart()).toHaveLength(attempts);
    expect(existsSync(path.join(h.workspace, 'again.txt'))).toBe(false);

    h.model.enqueue(respond(assistantMessage('recovered')));
    const next = await h.runTurn(threadId, 'try again');
    expect(next.result.status).toBe('completed');
    expect(JSON.stringify(requestsSinceStart().at(-1)?.input)).not.toContain('call_same');
  });

  describe('a freeform apply_patch call that never runs gets a custom_tool_call_output', () => {
    /** Scripts a response with the call (then `after`), and starts a thread that needs approval for it. */
    async function start(file: string, after: ReturnType<typeof respond>[], overrides: Parameters<Harness['settings']>[0] = {}) {
      const call = customToolCall('apply_patch', addFilePatch(file));
      h.model.enqueue(respond(call), ...after);
      const threadId = `custom-${randomUUID()}`;
      const started = await startThread(h.client, { threadId, settings: h.settings({ approvalPolicy: 'untrusted', ...overrides }), text: `add ${file}`, taskQueue: h.taskQueue });
      const done = followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });
      return { call, threadId, done };
    }

    test('when the user denies it', async () => {
      const { call, threadId, done } = await start('denied.txt', [respond(assistantMessage('ok, not writing'))]);
      await waitFor('the approval request', async () => (await pendingApprovals(h.client, threadId)).length === 1);
      await answerApproval(h.client, threadId, 'deny');
      const result = await done;

      expect(result.status).toBe('completed');
      expect(existsSync(path.join(h.workspace, 'denied.txt'))).toBe(false);
      const outputs = requestsSinceStart()[1].input.filter((i) => i.call_id === call.call_id && i.type !== 'custom_tool_call');
      expect(outputs).toEqual([{ type: 'custom_tool_call_output', call_id: call.call_id, output: 'the user denied this call; it was not run' }]);
    });

    test('when the approval times out', async () => {
      const { call, done } = await start('late.txt', [respond(assistantMessage('moving on'))], { approvalTimeoutMs: 300 });
      const result = await done;

      expect(result.status).toBe('completed');
      expect(existsSync(path.join(h.workspace, 'late.txt'))).toBe(false);
      const items = await transcriptItems(h, result.head);
      expect(items.filter(isToolOutput)).toEqual([
        { type: 'custom_tool_call_output', call_id: call.call_id, output: 'the approval request timed out after 300 ms; the call was not run' },
      ]);
    });

    test('when the user aborts the turn at the approval request', async () => {
      const { call, threadId, done } = await start('aborted.txt', []);
      await waitFor('the approval request', async () => (await pendingApprovals(h.client, threadId)).length === 1);
      await answerApproval(h.client, threadId, 'abort');
      const result = await done;

      expect(result.status).toBe('interrupted');
      expect(existsSync(path.join(h.workspace, 'aborted.txt'))).toBe(false);
      const items = await transcriptItems(h, result.head);
      expect(items.filter(isToolOutput)).toEqual([{ type: 'custom_tool_call_output', call_id: call.call_id, output: ABORTED_BY_USER }]);
      // The next request carries the aborted call and its output: the provider must accept it.
      h.model.enqueue(respond(assistantMessage('understood')));
      const next = await h.runTurn(threadId, 'never mind');
      expect(next.result.status).toBe('completed');
    });
  });
});
