/**
 * How `unroll diff` aligns two runs (pure, on hand-made runs): turn by turn and step by
 * step for unrelated threads; after the fork point for a thread and its fork, with a fork
 * at the end of a turn meeting the parent's next turn.
 */
import { diffRuns } from '../../src/history/run-diff';
import type { StepRun, ThreadRun } from '../../src/history/thread-run';
import type { ThreadOrigin } from '../../src/workflows/definitions';

interface StepSpec {
  calls?: string[];
  message?: string;
}

function run(threadId: string, turns: StepSpec[][], origin: ThreadOrigin | null = null): ThreadRun {
  return {
    threadId,
    origin,
    turns: turns.map((steps, t) => ({
      turn: t + 1,
      steps: steps.map((spec, s): Partial<StepRun> => ({
        id: `${t + 1}.${s + 1}`,
        turn: t + 1,
        step: s + 1,
        inference: { outcome: 'completed' } as StepRun['inference'],
        usage: { inputTokens: 100 * (s + 1), cachedInputTokens: 0, outputTokens: 10, reasoningOutputTokens: 0 },
        toolCalls: (spec.calls ?? []).map((name) => ({ name, arguments: '{}', output: `${name} out` }) as StepRun['toolCalls'][number]),
        messages: spec.message ? [spec.message] : [],
      })),
    })),
  } as unknown as ThreadRun;
}

const origin = (threadId: string, turn: number, step: number): ThreadOrigin => ({ threadId, turn, step, editedCallId: null, instructionsChanged: false, model: 'm' });
const noRequests = () => Promise.resolve([]);
const pairsOf = async (a: ThreadRun, b: ThreadRun) => (await diffRuns(a, b, noRequests)).pairs.map((p) => [p.a, p.b, p.same]);

describe('aligning runs', () => {
  test('unrelated threads align turn by turn and step by step; extra steps are only on one side', async () => {
    const a = run('A', [[{ calls: ['shell'] }, { message: 'done' }], [{ message: 'bye' }]]);
    const b = run('B', [[{ calls: ['shell'] }, { calls: ['apply_patch'] }, { message: 'done' }]]);
    expect(await pairsOf(a, b)).toEqual([
      ['1.1', '1.1', true],
      ['1.2', '1.2', false],
      [null, '1.3', false],
      ['2.1', null, false],
    ]);
    const diff = await diffRuns(a, b, noRequests);
    expect(diff.firstDivergence).toBe(1);
    expect(diff.pairs[1].differences).toEqual([
      { kind: 'tool-calls', a: [], b: ['apply_patch {}'] },
      { kind: 'assistant', a: 'done', b: '' },
    ]);
    expect(diff.pairs[2].differences).toEqual([{ kind: 'only-in', side: 'b' }]);
    expect(diff.pairs[0].tokens).toEqual({ inputDelta: 0, cachedDelta: 0, outputDelta: 0 });
  });

  test("a fork mid-turn meets the parent's steps after the fork point", async () => {
    const parent = run('P', [[{ calls: ['shell'] }, { calls: ['shell'] }, { message: 'done' }], [{ message: 'next' }]]);
    const fork = run('F', [[{ calls: ['shell'] }, { message: 'done' }], [{ message: 'next' }]], origin('P', 1, 1));
    const diff = await diffRuns(parent, fork, noRequests);
    expect(diff.relation).toBe('b-forks-a');
    expect(diff.shared).toEqual(['1.1']);
    expect(diff.pairs.map((p) => [p.a, p.b, p.same])).toEqual([
      ['1.2', '1.1', true],
      ['1.3', '1.2', true],
      ['2.1', '2.1', true],
    ]);
    expect(diff.pairs[0].tokens).toEqual({ inputDelta: -100, cachedDelta: 0, outputDelta: 0 });
    expect(diff.firstDivergence).toBeNull();
  });

  test("a fork at the last step of a turn meets the parent's next turn", async () => {
    const parent = run('P', [[{ calls: ['shell'] }, { message: 'done' }], [{ calls: ['shell'] }, { message: 'bye' }]]);
    const fork = run('F', [[{ calls: ['update_plan'] }, { message: 'bye' }]], origin('P', 1, 2));
    expect(await pairsOf(parent, fork)).toEqual([
      ['2.1', '1.1', false],
      ['2.2', '1.2', true],
    ]);
    expect(await pairsOf(fork, parent)).toEqual([
      ['1.1', '2.1', false],
      ['1.2', '2.2', true],
    ]);
  });

  test('the first request item that differs is reported once, with both sides', async () => {
    const a = run('A', [[{ message: 'x' }]]);
    const b = run('B', [[{ message: 'x' }]]);
    const requests = { a: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'same' }] }, { type: 'function_call_output', call_id: 'c1', output: 'one' }], b: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'same' }] }, { type: 'function_call_output', call_id: 'c1', output: 'two' }, { type: 'message', role: 'user', content: [] }] };
    const diff = await diffRuns(a, b, (side) => Promise.resolve(requests[side]));
    expect(diff.pairs[0].differences).toEqual([{ kind: 'request', index: 1, a: 'function_call_output c1: one', b: 'function_call_output c1: two' }]);
  });

  test('a request difference carried into later requests is reported only where it first appears', async () => {
    const a = run('A', [[{ calls: ['shell'] }, { message: 'x' }]]);
    const b = run('B', [[{ calls: ['shell'] }, { message: 'x' }]]);
    const item = (output: string) => [{ type: 'function_call_output', call_id: 'c0', output }];
    const diff = await diffRuns(a, b, (side) => Promise.resolve(item(side)));
    expect(diff.pairs.map((p) => [p.same, p.differences.map((d) => d.kind)])).toEqual([
      [false, ['request']],
      [true, []],
    ]);
  });
});
