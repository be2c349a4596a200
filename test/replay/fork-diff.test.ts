/**
 * `unroll fork` and `unroll diff` on real runs: a fork at a step with one tool output
 * edited sends the provider the parent's transcript up to that output, the edited output
 * and the new message; a fork with another model and instructions sends those; the fork
 * records its origin; and diffing parent and fork finds the divergence at the step after
 * the fork point.
 */
import { buildRequestInput } from '../../src/activities/model-client';
import { DEFAULT_FORK_MESSAGE, forkThread } from '../../src/client/fork-thread';
import { describeThread, followTurn } from '../../src/client/threads';
import { buildThreadRun } from '../../src/history/build-run';
import { diffRuns } from '../../src/history/run-diff';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import type { ThreadRun } from '../../src/history/thread-run';
import { startHarness, type Harness } from '../support/harness';
import type { RecordedRequest } from '../support/responses-server';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';

jest.setTimeout(120_000);

describe('fork and diff', () => {
  let h: Harness;
  let parent: ThreadRun;
  let parentRequests: RecordedRequest[];
  const first = shellCall('echo original-output');

  const runOf = async (threadId: string) => buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
  const requestInput = (_side: 'a' | 'b', step: ThreadRun['turns'][number]['steps'][number]) => buildRequestInput(h.store, step.request.head, step.request.append);

  beforeAll(async () => {
    h = await startHarness();
    const before = h.model.requests.length;
    h.model.enqueue(respond(first), respond(shellCall('echo second')), respond(assistantMessage('done: original-output')));
    const { threadId, result } = await h.runThread('run the commands');
    expect(result.status).toBe('completed');
    parentRequests = h.model.requests.slice(before);
    parent = await runOf(threadId);
    expect(parent.turns[0].steps.map((s) => s.id)).toEqual(['1.1', '1.2', '1.3']);
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => h.model.assertProtocol());

  async function forkAndFinish(options: Omit<Parameters<typeof forkThread>[3], 'taskQueue'>) {
    const before = h.model.requests.length;
    const fork = await forkThread(h.client, h.store, parent, { ...options, taskQueue: h.taskQueue });
    const result = await followTurn(h.client, fork.turnWorkflowId, () => undefined, { pollMs: 50 });
    return { fork, result, requests: h.model.requests.slice(before) };
  }

  describe('unroll fork', () => {
    test('a fork with an edited tool output sends the original prefix, the edited output and the new message', async () => {
      h.model.enqueue(respond(shellCall('echo different')), respond(assistantMessage('done: edited-output')));
      const { fork, result, requests } = await forkAndFinish({ at: '1.1', editOutput: { callId: first.call_id, text: 'edited-output' }, message: 'go on' });
      expect(result.status).toBe('completed');

      const sent = requests[0].input;
      const original = parentRequests[1].input; // step 1.2 of the parent: the output of step 1.1 appended
      const at = original.findIndex((i) => i.type === 'function_call_output' && i.call_id === first.call_id);
      expect(at).toBeGreaterThan(0);
      expect(sent.slice(0, at)).toEqual(original.slice(0, at));
      expect(sent[at]).toEqual({ type: 'function_call_output', call_id: first.call_id, output: 'edited-output' });
      expect(sent.slice(at + 1)).toEqual([{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'go on' }] }]);
      expect(sent.filter((i) => i.type === 'function_call_output').map((i) => i.output)).toEqual(['edited-output']);
      expect(requests[0].body.prompt_cache_key).toBe(fork.threadId);

      const origin = { threadId: parent.threadId, turn: 1, step: 1, editedCallId: first.call_id, instructionsChanged: false, model: 'test-model' };
      expect((await describeThread(h.client, fork.threadId)).origin).toEqual(origin);
      const shown = await runOf(fork.threadId);
      expect(shown.origin).toEqual(origin);
      expect(shown.turns[0].startHead).toBe(fork.point.head);
      // The parent's transcript is untouched: the edit wrote new nodes.
      expect(JSON.stringify(await buildRequestInput(h.store, parent.turns[0].steps[1].request.head, parent.turns[0].steps[1].request.append))).toContain('original-output');
    });

    test('a fork at the last step with another model and instructions sends them and announces the switch', async () => {
      h.model.enqueue(respond(assistantMessage('forked answer')));
      const { fork, result, requests } = await forkAndFinish({ at: '1.3', model: 'test-model-2', baseInstructions: 'You are a test fork.' });
      expect(result.status).toBe('completed');
      const [request] = requests;
      expect(request.body.model).toBe('test-model-2');
      expect(request.body.instructions).toBe('You are a test fork.');
      const transcript = [...parentRequests[2].input, { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'done: original-output', annotations: [] }] }];
      expect(request.input.slice(0, transcript.length)).toEqual(transcript);
      const added = request.input.slice(transcript.length);
      expect(JSON.stringify(added[0])).toContain('from test-model to test-model-2');
      expect(added[added.length - 1]).toEqual({ type: 'message', role: 'user', content: [{ type: 'input_text', text: DEFAULT_FORK_MESSAGE }] });
      expect((await describeThread(h.client, fork.threadId)).origin).toMatchObject({ turn: 1, step: 3, editedCallId: null, instructionsChanged: true, model: 'test-model-2' });
    });

    test('a fork at <turn>.0 starts before that turn: a thread forked at 1.0 has no history and gets the initial context again', async () => {
      h.model.enqueue(respond(assistantMessage('fresh start')));
      const { result, requests } = await forkAndFinish({ at: '1.0', message: 'start over' });
      expect(result.status).toBe('completed');
      expect(requests[0].input.map((i) => [i.type, i.role])).toEqual(parentRequests[0].input.map((i) => [i.type, i.role]));
      expect(requests[0].input[requests[0].input.length - 1]).toEqual({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'start over' }] });
    });

    test('forking at a step that does not exist or with an unknown call id is refused before anything starts', async () => {
      const before = h.model.requests.length;
      await expect(forkThread(h.client, h.store, parent, { at: '1.9', taskQueue: h.taskQueue })).rejects.toThrow('turn 1 of thread');
      await expect(forkThread(h.client, h.store, parent, { at: '2.1', taskQueue: h.taskQueue })).rejects.toThrow('has no turn 2');
      await expect(forkThread(h.client, h.store, parent, { at: '1.1', taskQueue: h.taskQueue, editOutput: { callId: 'call_nope', text: 'x' } })).rejects.toThrow(
        `no tool output for call call_nope in the transcript at the fork point (calls with outputs: ${first.call_id})`,
      );
      expect(h.model.requests.length).toBe(before);
    });
  });

  describe('unroll diff', () => {
    let forkRun: ThreadRun;
    const second = shellCall('echo different');

    beforeAll(async () => {
      h.model.enqueue(respond(second), respond(assistantMessage('done: edited-output')));
      const { fork } = await forkAndFinish({ at: '1.1', editOutput: { callId: first.call_id, text: 'edited-output' }, message: 'go on' });
      forkRun = await runOf(fork.threadId);
    });

    test('parent and fork diverge at the step after the fork point, where the edited output was sent', async () => {
      const diff = await diffRuns(parent, forkRun, requestInput);
      expect(diff.relation).toBe('b-forks-a');
      expect(diff.shared).toEqual(['1.1']);
      expect(diff.firstDivergence).toBe(0);
      expect(diff.pairs.map((p) => [p.a, p.b, p.same])).toEqual([
        ['1.2', '1.1', false],
        ['1.3', '1.2', false],
      ]);
      const [firstPair] = diff.pairs;
      const request = firstPair.differences.find((d) => d.kind === 'request');
      expect(request).toMatchObject({ kind: 'request', a: expect.stringContaining(`function_call_output ${first.call_id}: Exit code: 0`), b: `function_call_output ${first.call_id}: edited-output` });
      expect(firstPair.differences).toContainEqual({ kind: 'tool-calls', a: ['shell {"command":"echo second"}'], b: ['shell {"command":"echo different"}'] });
      expect(firstPair.differences.find((d) => d.kind === 'tool-output')).toMatchObject({ call: 0, name: 'shell' });
      expect(firstPair.tokens).toEqual({ inputDelta: expect.any(Number), cachedDelta: 0, outputDelta: expect.any(Number) });
      expect(diff.pairs[1].differences).toContainEqual({ kind: 'assistant', a: 'done: original-output', b: 'done: edited-output' });
    });

    test('with the fork named first, the same divergence is reported from the other side', async () => {
      const diff = await diffRuns(forkRun, parent, requestInput);
      expect(diff.relation).toBe('a-forks-b');
      expect(diff.pairs.map((p) => [p.a, p.b])).toEqual([
        ['1.1', '1.2'],
        ['1.2', '1.3'],
      ]);
      expect(diff.firstDivergence).toBe(0);
    });

    test('a thread compared with itself has no divergence', async () => {
      const diff = await diffRuns(parent, parent, requestInput);
      expect(diff.relation).toBe('unrelated');
      expect(diff.pairs.every((p) => p.same)).toBe(true);
      expect(diff.firstDivergence).toBeNull();
    });
  });
});
