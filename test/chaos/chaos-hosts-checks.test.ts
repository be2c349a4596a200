/**
 * The two-host mode's own checks must be able to fail: the history check flags a
 * workspace activity run by the other host's worker or scheduled on another queue, and
 * counts inferences by host; the PostgreSQL store walk (on the suite's real cluster)
 * flags a row whose bytes no longer match its hash and an object a chain needs that is
 * gone; the report turns each into a problem.
 */
import { Client } from 'pg';
import { checkHistory, type ActivityEvent, type HostCheck } from '../../bench/chaos/hosts';
import { verifyPgStore } from '../../bench/chaos/pg-integrity';
import { hostProblems, type HostsReport } from '../../bench/chaos/report';
import { openStore } from '../../src/store/open-store';
import { freshDatabase } from '../support/postgres';
import { testPostgresUrl } from '../support/postgres-env';

const SHARED = 'chaos-hosts';
const scheduled = (id: number, type: string, queue: string): ActivityEvent => ({ eventId: id, activityTaskScheduledEventAttributes: { activityType: { name: type }, taskQueue: { name: queue } } });
const started = (scheduledId: number, host: string): ActivityEvent => ({ activityTaskStartedEventAttributes: { scheduledEventId: scheduledId, identity: `4242@machine host:${host}` } });

describe('checkHistory (where the activities of a pinned thread ran)', () => {
  const fresh = (): Pick<HostCheck, 'wrongHost' | 'inferencesByHost'> => ({ wrongHost: [], inferencesByHost: { A: 0, B: 0 } });

  it('accepts workspace activities run on the pinned host and counts inferences served by either host', () => {
    const into = fresh();
    const events = [
      scheduled(5, 'beginTurn', `${SHARED}@host:A`), started(5, 'A'),
      scheduled(7, 'runInference', SHARED), started(7, 'B'),
      scheduled(9, 'runTool', `${SHARED}@host:A`), started(9, 'A'),
      scheduled(11, 'runInference', SHARED), started(11, 'A'),
    ];
    expect(checkHistory('turn-1', events, 'A', SHARED, into)).toBe(2);
    expect(into).toEqual({ wrongHost: [], inferencesByHost: { A: 1, B: 1 } });
  });

  it('flags a tool run by the other host and a workspace read scheduled on the shared queue', () => {
    const into = fresh();
    const events = [
      scheduled(9, 'runTool', `${SHARED}@host:A`), started(9, 'B'),
      scheduled(12, 'readWorkspaceContext', SHARED), started(12, 'A'),
    ];
    expect(checkHistory('turn-1', events, 'A', SHARED, into)).toBe(2);
    expect(into.wrongHost).toEqual([
      'turn-1 runTool (event 9) of a thread pinned to A: queue chaos-hosts@host:A, worker 4242@machine host:B',
      'turn-1 readWorkspaceContext (event 12) of a thread pinned to A: queue chaos-hosts, worker 4242@machine host:A',
    ]);
  });

  it('makes the report fail on a wrong host, or on a host that served no inference', () => {
    const report: HostsReport = {
      sessionsByHost: { A: 1, B: 1 }, workspaceActivities: 4, wrongHost: ['turn-1 runTool …'], inferencesByHost: { A: 3, B: 0 }, unreadable: [],
      workerKillsByHost: { A: 1, B: 1 }, dbRestarts: 1,
    };
    expect(hostProblems(report)).toEqual(['ran on the wrong host: turn-1 runTool …', 'host B served no inference (both hosts poll the shared queue)']);
    expect(hostProblems({ ...report, wrongHost: [], inferencesByHost: { A: 3, B: 2 } })).toEqual([]);
  });
});

describe('verifyPgStore (the store walk on PostgreSQL)', () => {
  async function storeWithChain(): Promise<{ url: string; head: string; item: string }> {
    const url = await freshDatabase(testPostgresUrl(), 'chaos_checks');
    const opened = openStore(url, { home: '/nonexistent' });
    try {
      const first = await opened.store.append(null, [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] }]);
      const head = await opened.store.append(first, [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'hi' }] }]);
      return { url, head, item: (await opened.store.getNode(head)).items[0] };
    } finally {
      await opened.close();
    }
  }
  async function sql(url: string, text: string, values: unknown[]): Promise<void> {
    const db = new Client({ connectionString: url });
    await db.connect();
    try {
      await db.query(text, values);
    } finally {
      await db.end();
    }
  }

  it('finds nothing wrong with a whole store', async () => {
    const { url, head } = await storeWithChain();
    expect(await verifyPgStore(url, [head], '/nonexistent')).toMatchObject({ objects: 4, corrupted: [], lost: [], headsChecked: 1, chainsLoaded: 1 });
  });

  it('reports a row whose bytes no longer match its hash as corrupted, and a deleted one a chain needs as lost', async () => {
    const corrupt = await storeWithChain();
    await sql(corrupt.url, 'UPDATE unroll_objects SET data = $2 WHERE hash = $1', [corrupt.item, Buffer.from('{"type":"message","role":"assistant","content":[]}')]);
    const corrupted = await verifyPgStore(corrupt.url, [corrupt.head], '/nonexistent');
    expect(corrupted.corrupted).toEqual([corrupt.item]);
    expect(corrupted.chainsLoaded).toBe(0);

    const missing = await storeWithChain();
    await sql(missing.url, 'DELETE FROM unroll_objects WHERE hash = $1', [missing.item]);
    const lost = await verifyPgStore(missing.url, [missing.head], '/nonexistent');
    expect(lost.lost).toEqual([missing.item]);
    expect(lost.chainsLoaded).toBe(0);
  });
});
