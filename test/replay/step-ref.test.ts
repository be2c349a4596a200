/** Naming steps: `<turn>.<step>`, bare numbers only on single-turn threads. */
import { parseStepRef, resolveStep, resolveTurn, StepRefError } from '../../src/history/step-ref';
import type { ThreadRun } from '../../src/history/thread-run';

const thread = (steps: number[]): ThreadRun =>
  ({
    threadId: 'th-x',
    turns: steps.map((n, i) => ({ turn: i + 1, steps: Array.from({ length: n }, (_, s) => ({ id: `${i + 1}.${s + 1}`, turn: i + 1, step: s + 1 })) })),
  }) as unknown as ThreadRun;

describe('step references', () => {
  test.each([
    ['2.3', { turn: 2, step: 3 }],
    ['1.0', { turn: 1, step: 0 }],
    [' 4 ', { turn: null, step: 4 }],
    ['12.10', { turn: 12, step: 10 }],
  ])('parses %j', (text, expected) => {
    expect(parseStepRef(text)).toEqual(expected);
  });

  test.each(['', 'a.b', '1.', '.2', '1.2.3', '-1', '0.1'])('refuses %j', (text) => {
    expect(() => parseStepRef(text)).toThrow(StepRefError);
  });

  test('a bare step resolves on a single-turn thread and is refused as ambiguous otherwise', () => {
    expect(resolveStep(thread([3]), { turn: null, step: 2 }).id).toBe('1.2');
    expect(() => resolveStep(thread([3, 1]), { turn: null, step: 2 })).toThrow('thread th-x has 2 turns: name the step as <turn>.2');
  });

  test('missing turns and steps are named in the error', () => {
    expect(() => resolveTurn(thread([1]), { turn: 3, step: 1 })).toThrow('thread th-x has no turn 3 (it has 1)');
    expect(() => resolveStep(thread([2]), { turn: 1, step: 5 })).toThrow('turn 1 of thread th-x has no step 5 (steps 1-2)');
  });
});
