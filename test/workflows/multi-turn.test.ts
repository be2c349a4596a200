/**
 * A thread over several turns: each request extends the last (history is carried, the
 * initial context is sent once), the prompt parts that keep the provider's cache warm stay
 * fixed, AGENTS.md reaches the model, and invalid input is refused without harming the
 * thread.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { describeThread, submitTurn } from '../../src/client/threads';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/worker-process';
import type { InputItem, RecordedRequest } from '../support/responses-server';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';

/** The text of a message item of a request's input ('' for other items). */
function textOf(item: InputItem): string {
  if (item.type !== 'message' || !Array.isArray(item.content)) return '';
  return (item.content as { text?: string }[]).map((part) => part.text ?? '').join('');
}

function messages(request: RecordedRequest, role: string): string[] {
  return request.input.filter((i) => i.type === 'message' && i.role === role).map(textOf);
}

describe('a thread over several turns', () => {
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
  });
  const request = (i: number): RecordedRequest => h.model.requests[firstRequest + i];

  test('the second turn sends the first turn whole and the initial context only once', async () => {
    const first = shellCall('echo from-turn-one');
    h.model.enqueue(respond(first), respond(assistantMessage('turn one done')));
    const { threadId, result } = await h.runThread('first question');
    expect(result.status).toBe('completed');

    const second = shellCall('echo from-turn-two');
    h.model.enqueue(respond(second), respond(assistantMessage('turn two done')));
    const next = await h.runTurn(threadId, 'second question');
    expect(next.result.status).toBe('completed');
    expect(next.result.lastMessage?.excerpt).toBe('turn two done');

    // Requests 0-1 are turn 1; 2-3 are turn 2.
    const input = request(3).input;
    const position = (predicate: (item: InputItem) => boolean): number => {
      const matches = input.flatMap((item, i) => (predicate(item) ? [i] : []));
      expect(matches).toHaveLength(1);
      return matches[0];
    };
    const order = [
      position((i) => i.type === 'message' && i.role === 'user' && textOf(i) === 'first question'),
      position((i) => i.type === 'function_call' && i.call_id === first.call_id),
      position((i) => i.type === 'function_call_output' && i.call_id === first.call_id && String(i.output).includes('from-turn-one')),
      position((i) => i.type === 'message' && i.role === 'assistant' && textOf(i) === 'turn one done'),
      position((i) => i.type === 'message' && i.role === 'user' && textOf(i) === 'second question'),
      position((i) => i.type === 'function_call' && i.call_id === second.call_id),
      position((i) => i.type === 'function_call_output' && i.call_id === second.call_id),
    ];
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    expect(messages(request(3), 'developer')).toHaveLength(1);
    expect(messages(request(3), 'user').filter((t) => t.startsWith('<environment_context>'))).toHaveLength(1);
    // Turn 2's first request is turn 1's last input, plus the reply and the new user message.
    expect(request(2).input.slice(0, request(1).input.length)).toEqual(request(1).input);
    expect(request(2).input.length).toBe(request(1).input.length + 2);
  });

  test('AGENTS.md from the repository root reaches the model in the first request', async () => {
    const repo = path.join(h.workspace, 'repo-with-agents');
    await mkdir(path.join(repo, '.git'), { recursive: true });
    await writeFile(path.join(repo, 'AGENTS.md'), 'Always run `make lint` before finishing.\n');
    h.model.enqueue(respond(assistantMessage('noted')));
    const { result } = await h.runThread('hello', { cwd: repo });

    expect(result.status).toBe('completed');
    const agents = messages(request(0), 'user').filter((t) => t.startsWith('# AGENTS.md instructions for'));
    expect(agents).toHaveLength(1);
    expect(agents[0]).toContain(`# AGENTS.md instructions for ${repo}`);
    expect(agents[0]).toContain('Always run `make lint` before finishing.');
    // The workspace the other tests use has no AGENTS.md, so their threads get none.
    h.model.enqueue(respond(assistantMessage('plain')));
    await h.runThread('hello again');
    expect(messages(request(1), 'user').some((t) => t.includes('AGENTS.md instructions'))).toBe(false);
  });

  test('instructions, prompt_cache_key and tools stay fixed for the thread', async () => {
    h.model.enqueue(respond(assistantMessage('one')));
    const { threadId } = await h.runThread('turn one');
    h.model.enqueue(respond(assistantMessage('two')));
    await h.runTurn(threadId, 'turn two');

    const [one, two] = [request(0).body, request(1).body];
    expect(typeof one.instructions).toBe('string');
    expect((one.instructions as string).trim()).not.toBe('');
    expect(two.instructions).toBe(one.instructions);
    expect(one.prompt_cache_key).toBe(threadId);
    expect(two.prompt_cache_key).toBe(threadId);
    const names = (one.tools as { name: string }[]).map((t) => t.name);
    expect([...names].sort()).toEqual(['apply_patch', 'shell', 'update_plan']);
    expect(two.tools).toEqual(one.tools);
  });

  test('empty input is refused by the update validator and the thread keeps working', async () => {
    h.model.enqueue(respond(assistantMessage('first')));
    const { threadId } = await h.runThread('start');

    const refusal = await submitTurn(h.client, threadId, '   ').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refusal as WorkflowUpdateFailedError).cause?.message).toMatch(/input text is empty/);

    h.model.enqueue(respond(assistantMessage('still here')));
    const next = await h.runTurn(threadId, 'are you there?');
    expect(next.result.status).toBe('completed');
    expect(next.result.lastMessage?.excerpt).toBe('still here');
    // The session records the turn after its child returns: wait for that, not for the child.
    await waitFor('the session to record turn 2', async () => (await describeThread(h.client, threadId)).turns === 2);
    expect(messages(request(1), 'user').filter((t) => t.trim() === '')).toEqual([]);
  });
});
