/**
 * Which checkpoint holds a thread's workspace after a step: the latest created or
 * unchanged checkpoint at or before it, through turn starts, rewinds and a fork's source;
 * a skipped checkpoint on the way, or none at all, is an error naming the step and why.
 */
import { NoCheckpointError, workspaceAt } from '../../src/history/workspace-at';
import type { CheckpointView, RewindView, StepRun, ThreadRun, TurnRun } from '../../src/history/thread-run';
import { StepRefError } from '../../src/history/step-ref';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

type Mark = ['created' | 'unchanged', string | null] | ['skipped', string] | ['running'] | null;

function view(mark: Mark): CheckpointView | null {
  if (mark === null) return null;
  const [status, value] = mark;
  return {
    status,
    id: status === 'created' || status === 'unchanged' ? (value ?? null) : null,
    changeCount: 0,
    changes: [],
    reason: status === 'skipped' ? (value ?? null) : null,
    activity: null as never,
  };
}

/** A thread whose turn T has marks[T-1] = [T.0, T.1, …]. */
function thread(marks: Mark[][], extra: Partial<ThreadRun> = {}): ThreadRun {
  const turns = marks.map((m, i) => ({
    turn: i + 1,
    startCheckpoint: view(m[0]),
    steps: m.slice(1).map((mark, s) => ({ id: `${i + 1}.${s + 1}`, turn: i + 1, step: s + 1, checkpoint: view(mark) }) as StepRun),
  }) as unknown as TurnRun);
  return { threadId: 'th-x', turns, rewinds: [], origin: null, settings: null, ...extra } as ThreadRun;
}

const rewind = (to: string, beforeTurn: number, checkpoint: string): RewindView => ({ to, beforeTurn, checkpoint, head: null, activity: null as never });

describe('workspaceAt', () => {
  test.each<[string, Mark[][], string, string | null, string]>([
    ['a step that created a checkpoint', [[['created', A], ['created', B]]], '1.1', B, '1.1'],
    ['a step without a checkpoint attempt takes the previous one', [[['created', A], ['created', B], null]], '1.2', B, '1.1'],
    ['the turn start', [[['created', A], ['created', B]]], '1.0', A, '1.0'],
    ['an unchanged step names the checkpoint it matches', [[['created', A], ['unchanged', A]]], '1.1', A, '1.1'],
    ['an empty workspace is a null checkpoint', [[['unchanged', null], null]], '1.1', null, '1.0'],
    ['an earlier turn, when a turn recorded nothing', [[['created', A], ['created', B]], [null, null]], '2.1', B, '1.1'],
  ])('%s', (_name, marks, step, checkpoint, recordedAt) => {
    const [turn, s] = step.split('.').map(Number);
    expect(workspaceAt(thread(marks), { turn, step: s })).toEqual({ step, checkpoint, recordedAt });
  });

  test('a skipped checkpoint between the last one and the step is an error naming that step and its reason', () => {
    const run = thread([[['created', A], ['skipped', 'over the checkpoint size cap'], null]]);
    expect(() => workspaceAt(run, { turn: 1, step: 2 })).toThrow(NoCheckpointError);
    expect(() => workspaceAt(run, { turn: 1, step: 2 })).toThrow('cannot restore the workspace of thread th-x after step 1.2: step 1.1 has no checkpoint (over the checkpoint size cap)');
    // Before the skipped step the workspace is still known.
    expect(workspaceAt(run, { turn: 1, step: 0 }).checkpoint).toBe(A);
  });

  test('a thread that recorded no checkpoint says so', () => {
    const err = (() => {
      try {
        workspaceAt(thread([[null, null]]), { turn: 1, step: 1 });
      } catch (e) {
        return e as NoCheckpointError;
      }
    })();
    expect(err).toBeInstanceOf(NoCheckpointError);
    expect(err?.kind).toBe('none');
    expect(err?.message).toContain('recorded no workspace checkpoint at or before it');
  });

  test('a checkpoint still being taken is not restored', () => {
    expect(() => workspaceAt(thread([[['created', A], ['running']]]), { turn: 1, step: 1 })).toThrow('the checkpoint of step 1.1 is still being taken');
  });

  test('a fork inherits its source’s checkpoint before its own first one', () => {
    const origin = { threadId: 'th-src', turn: 2, step: 3, editedCallId: null, instructionsChanged: false, model: 'm' };
    expect(workspaceAt(thread([[null, null]], { origin, inheritedCheckpoint: C }), { turn: 1, step: 1 })).toEqual({ step: '1.1', checkpoint: C, recordedAt: 'th-src at 2.3' });
  });

  test('going back past a turn that followed a rewind continues at the rewind, not the steps it undid', () => {
    const run = thread([[['created', A], ['created', B]], [null, null]], { rewinds: [rewind('1.0', 2, A)] });
    expect(workspaceAt(run, { turn: 2, step: 1 })).toEqual({ step: '2.1', checkpoint: A, recordedAt: 'the rewind to 1.0' });
  });

  test('a step the thread does not have is a step error', () => {
    expect(() => workspaceAt(thread([[['created', A], null]]), { turn: 1, step: 5 })).toThrow(StepRefError);
  });
});
