/**
 * The first heartbeat of an activity waits for a short window (src/activities/activity-context.ts):
 * an activity that finishes within it sends none, a longer one sends the latest details
 * when the window ends, and after that every heartbeat goes straight through.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HeartbeatGate } from '../../src/activities/activity-context';

describe('HeartbeatGate', () => {
  it('sends nothing while the window is open, then only the latest details', async () => {
    const sent: unknown[] = [];
    const gate = new HeartbeatGate((d) => sent.push(d), 100);
    gate.heartbeat({ phase: 'loading' });
    gate.heartbeat({ phase: 'streaming' });
    expect(sent).toEqual([]);
    await sleep(250);
    expect(sent).toEqual([{ phase: 'streaming' }]);
    gate.heartbeat({ phase: 'storing' });
    expect(sent).toEqual([{ phase: 'streaming' }, { phase: 'storing' }]);
  });

  it('sends nothing for an activity cancelled within the window', async () => {
    const sent: unknown[] = [];
    let cancelled = false;
    const gate = new HeartbeatGate((d) => sent.push(d), 50, () => cancelled);
    gate.heartbeat('started');
    cancelled = true;
    await sleep(150);
    expect(sent).toEqual([]);
  });

  it('with no window, sends every heartbeat at once', () => {
    const sent: unknown[] = [];
    const gate = new HeartbeatGate((d) => sent.push(d), 0);
    gate.heartbeat(1);
    gate.heartbeat(2);
    expect(sent).toEqual([1, 2]);
  });
});
