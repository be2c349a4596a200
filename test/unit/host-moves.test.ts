/**
 * HostMoveTracker reads host failovers out of a turn's activity records (the real
 * history of a move is covered by test/hosts/failover.test.ts; here the orderings a live
 * run seldom produces: a busy host found alive first, a busy host that ran the activity
 * in the end, an adoption that failed or is still running).
 */
import type { HostMove } from '../../src/activities/failover';
import type { ActivityRecord } from '../../src/history/history-events';
import { HostMoveTracker } from '../../src/history/host-moves';
import { hostPin } from '../../src/shared/hosts';

let nextId = 1;
function record(name: string, fields: Partial<ActivityRecord>): ActivityRecord {
  return {
    scheduledEventId: nextId++, name, input: {}, summary: null, scheduledAt: null, startedAt: null, closedAt: null, attempts: 1,
    lastRetryFailure: null, outcome: 'completed', result: undefined, failure: null, failureType: null, ...fields,
  };
}
const timedOut = (at: number, until: number) =>
  record('runTool', { summary: 'shell: make', scheduledAt: at, closedAt: until, outcome: 'timed-out', failure: 'activity ScheduleToStart timeout', failureType: 'Timeout' });
const check = (alive: boolean) => record('checkHostLiveness', { input: { host: hostPin('q', 'A'), sharedTaskQueue: 'q' }, result: { alive, lastSeen: '2026-12-01T00:00:00.000Z', seenBy: 'w host:A' } });
const MOVE: HostMove = { from: 'A', to: hostPin('q', 'B'), previousCwd: '/w', cwd: '/w', restoredFrom: { id: 'c'.repeat(64), turn: 1, step: 2 }, notRestored: null, relocatedBecause: null };
const adopt = (fields: Partial<ActivityRecord> = {}) =>
  record('adoptThread', { input: { settings: { host: hostPin('q', 'A') } }, scheduledAt: 20_000, closedAt: 20_500, result: MOVE, ...fields });

describe('HostMoveTracker', () => {
  it('counts the rounds a busy host kept the thread, and measures the wait from the first scheduling to the last timeout', () => {
    const tracker = new HostMoveTracker();
    const seen = [timedOut(1_000, 5_000), check(true), timedOut(5_100, 9_000), check(false), adopt()].map((r) => tracker.observe(r, 3));
    expect(seen).toEqual([false, true, false, true, true]);
    expect(tracker.moves()).toEqual([
      {
        step: 3, from: 'A', waitedFor: 'shell: make', lostAfterMs: 8_000, livenessChecks: 2, lastSeen: '2026-12-01T00:00:00.000Z',
        status: 'moved', move: MOVE, adoptionMs: 500, movedAt: new Date(20_500).toISOString(), failure: null,
      },
    ]);
  });

  it('forgets a busy round once the host ran the activity, so a later move counts only its own checks', () => {
    const tracker = new HostMoveTracker();
    for (const r of [timedOut(1_000, 5_000), check(true), record('runTool', { summary: 'shell: make' })]) tracker.observe(r, 1);
    for (const r of [timedOut(30_000, 34_000), check(false), adopt()]) tracker.observe(r, 2);
    expect(tracker.moves().map((m) => [m.step, m.livenessChecks, m.lostAfterMs])).toEqual([[2, 1, 4_000]]);
  });

  it('reports an adoption that failed with its failure and one still running as such', () => {
    const tracker = new HostMoveTracker();
    tracker.observe(timedOut(0, 3_000), 0);
    tracker.observe(check(false), 0);
    tracker.observe(adopt({ outcome: 'failed', result: undefined, failure: 'ENOSPC: no space left on device' }), 0);
    tracker.observe(adopt({ outcome: 'scheduled', result: undefined, closedAt: null }), 0);
    expect(tracker.moves().map((m) => [m.status, m.from, m.move, m.failure, m.movedAt])).toEqual([
      ['failed', 'A', null, 'ENOSPC: no space left on device', new Date(20_500).toISOString()],
      ['running', 'A', null, null, null],
    ]);
  });
});
