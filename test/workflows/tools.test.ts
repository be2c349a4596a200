/**
 * Tool calls through the whole loop: a real dev server, an in-process worker and the
 * scripted Responses server. What the model sees (the outputs in the next request), what
 * lands on disk and what the turn reports are checked; tool failures must reach the model
 * as outputs and never fail the turn.
 */
import { mkdir, readFile, writeFile, access } from 'node:fs/promises';
import * as path from 'node:path';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import type { InputItem, RecordedRequest } from '../support/responses-server';
import {
  applyPatchCall,
  assistantMessage,
  functionCall,
  respond,
  shellCall,
  updatePlanCall,
  type PlanStep,
} from '../support/responses-builders';

const patch = (...body: string[]): string => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

/** The function_call_output items of a request's input, in order. */
function outputsIn(request: RecordedRequest): { call_id: string; output: string }[] {
  return request.input
    .filter((item: InputItem) => item.type === 'function_call_output')
    .map((item) => ({ call_id: String(item.call_id), output: String(item.output) }));
}

/** The output the model was sent for `callId` (exactly one is expected). */
function outputFor(request: RecordedRequest, callId: string): string {
  const matches = outputsIn(request).filter((o) => o.call_id === callId);
  expect(matches).toHaveLength(1);
  return matches[0].output;
}

describe('tool calls in the agent loop', () => {
  let h: Harness;
  let firstRequest: number;
  const ws = (rel: string): string => path.join(h.workspace, rel);
  const exists = (rel: string): Promise<boolean> => access(ws(rel)).then(() => true, () => false);

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

  test('parallel tool calls in one response all run and their outputs come back in call order, each once', async () => {
    const plan: PlanStep[] = [{ step: 'look around', status: 'in_progress' }];
    const calls = [
      updatePlanCall(plan, 'first'),
      updatePlanCall([{ step: 'look around', status: 'completed' }]),
      shellCall('echo parallel > parallel.txt && echo wrote'),
    ];
    h.model.enqueue(respond(calls), respond(assistantMessage('all done')));
    const { result, events } = await h.runThread('do three things at once');

    expect(result.status).toBe('completed');
    expect(result.steps).toBe(2);
    expect(await readFile(ws('parallel.txt'), 'utf8')).toBe('parallel\n');
    const callIds = calls.map((c) => c.call_id);
    expect(outputsIn(request(1)).map((o) => o.call_id)).toEqual(callIds);
    expect(outputFor(request(1), callIds[0])).toBe('Plan updated');
    expect(outputFor(request(1), callIds[1])).toBe('Plan updated');
    expect(outputFor(request(1), callIds[2])).toContain('wrote');
    const completed = events.flatMap((e) => (e.kind === 'tool.completed' ? [e.callId] : []));
    expect([...completed].sort()).toEqual([...callIds].sort());
    const items = await transcriptItems(h, result.head);
    const recorded = items.flatMap((i) => (i.type === 'function_call_output' ? [i.call_id] : []));
    expect(recorded).toEqual(callIds);
  });

  test('malformed arguments and unknown tools come back to the model as error outputs and the turn completes', async () => {
    const notJson = functionCall('shell', '{not json', 'call_not_json');
    const wrongSchema = functionCall('shell', { command: 42 }, 'call_wrong_schema');
    const unknown = functionCall('frobnicate', { level: 11 }, 'call_unknown');
    h.model.enqueue(respond([notJson, wrongSchema, unknown]), respond(assistantMessage('I will fix my calls')));
    const { result, events } = await h.runThread('call tools badly');

    expect(result.status).toBe('completed');
    expect(result.lastMessage?.excerpt).toBe('I will fix my calls');
    expect(outputFor(request(1), 'call_not_json')).toMatch(/^failed to parse arguments of shell as JSON/);
    expect(outputFor(request(1), 'call_wrong_schema')).toMatch(/^invalid arguments for shell: command:/);
    expect(outputFor(request(1), 'call_unknown')).toMatch(/^unknown tool "frobnicate"\. Available tools: shell, apply_patch, update_plan/);
    const failures = events.flatMap((e) => (e.kind === 'tool.completed' ? [[e.callId, e.success]] : []));
    expect(failures).toEqual([
      ['call_not_json', false],
      ['call_wrong_schema', false],
      ['call_unknown', false],
    ]);
  });

  test('a shell command that outlives its timeout is killed and reported with exit code 124', async () => {
    const call = shellCall('sleep 5', { timeout_ms: 300 });
    h.model.enqueue(respond(call), respond(assistantMessage('that took too long')));
    const { result, events } = await h.runThread('sleep for a while');

    expect(result.status).toBe('completed');
    const output = outputFor(request(1), call.call_id);
    expect(output).toContain('command timed out');
    expect(output).toContain('Exit code: 124');
    const done = events.find((e) => e.kind === 'tool.completed');
    expect(done).toMatchObject({ kind: 'tool.completed', success: false, metadata: { exitCode: 124, timedOut: true } });
  });

  test('apply_patch adds, updates, moves and deletes files and lists each change', async () => {
    await writeFile(ws('keep.txt'), 'one\ntwo\nthree\n');
    await writeFile(ws('old-name.txt'), 'alpha\nbeta\n');
    await writeFile(ws('gone.txt'), 'bye\n');
    const first = applyPatchCall(
      patch('*** Add File: docs/new.txt', '+fresh', '+file', '*** Update File: keep.txt', '@@', ' one', '-two', '+TWO', ' three'),
    );
    const second = applyPatchCall(
      patch('*** Update File: old-name.txt', '*** Move to: moved/new-name.txt', '@@', ' alpha', '-beta', '+BETA', '*** Delete File: gone.txt'),
    );
    h.model.enqueue(respond(first), respond(second), respond(assistantMessage('patched')));
    const { result } = await h.runThread('edit some files');

    expect(result.status).toBe('completed');
    expect(await readFile(ws('docs/new.txt'), 'utf8')).toBe('fresh\nfile\n');
    expect(await readFile(ws('keep.txt'), 'utf8')).toBe('one\nTWO\nthree\n');
    expect(await readFile(ws('moved/new-name.txt'), 'utf8')).toBe('alpha\nBETA\n');
    expect(await exists('old-name.txt')).toBe(false);
    expect(await exists('gone.txt')).toBe(false);
    expect(outputFor(request(1), first.call_id)).toBe('Success. Updated the following files:\nA docs/new.txt\nM keep.txt');
    expect(outputFor(request(2), second.call_id)).toBe('Success. Updated the following files:\nM moved/new-name.txt\nD gone.txt');
  });

  test('a patch that does not apply is reported to the model, changes nothing, and the turn goes on', async () => {
    await mkdir(ws('strict'), { recursive: true });
    await writeFile(ws('strict/a.txt'), 'first\nsecond\n');
    await writeFile(ws('strict/b.txt'), 'untouched\n');
    const bad = applyPatchCall(
      patch(
        '*** Update File: strict/b.txt',
        '@@',
        '-untouched',
        '+touched',
        '*** Update File: strict/a.txt',
        '@@',
        ' first',
        '-no such line',
        '+replacement',
      ),
    );
    const good = applyPatchCall(patch('*** Add File: strict/c.txt', '+after the failure'));
    h.model.enqueue(respond(bad), respond(good), respond(assistantMessage('recovered')));
    const { result } = await h.runThread('try a bad patch');

    expect(result.status).toBe('completed');
    expect(result.steps).toBe(3);
    expect(outputFor(request(1), bad.call_id)).toMatch(/^apply_patch verification failed/);
    expect(await readFile(ws('strict/a.txt'), 'utf8')).toBe('first\nsecond\n');
    expect(await readFile(ws('strict/b.txt'), 'utf8')).toBe('untouched\n');
    expect(await readFile(ws('strict/c.txt'), 'utf8')).toBe('after the failure\n');
  });

  test('update_plan reports the plan in its tool.completed event', async () => {
    const plan: PlanStep[] = [
      { step: 'read the code', status: 'completed' },
      { step: 'write the tests', status: 'in_progress' },
      { step: 'run them', status: 'pending' },
    ];
    const call = updatePlanCall(plan, 'starting on tests');
    h.model.enqueue(respond(call), respond(assistantMessage('planned')));
    const { result, events } = await h.runThread('make a plan');

    expect(result.status).toBe('completed');
    const done = events.filter((e) => e.kind === 'tool.completed');
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({
      kind: 'tool.completed',
      callId: call.call_id,
      name: 'update_plan',
      success: true,
      metadata: { plan, explanation: 'starting on tests' },
    });
    expect(outputFor(request(1), call.call_id)).toBe('Plan updated');
  });
});
