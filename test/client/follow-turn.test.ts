/**
 * `followTurn` against the real dev server and a real worker: what it tells while a
 * turn waits. A tool call pinned to a host whose worker is gone (its task queue has no
 * poller) is reported as waiting for a worker on that queue, and the turn finishes as
 * soon as a worker for the queue starts.
 */
import { randomUUID } from 'node:crypto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { followTurn, startThread } from '../../src/client/threads';
import { createUnrollWorker } from '../../src/workers/worker';
import { startHarness, testEnvironment, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import { waitFor } from '../support/worker-process';

jest.setTimeout(120_000);

describe('following a turn that waits', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  test('a tool call on a task queue no worker polls is told once, naming the queue, and the turn goes on when a worker comes', async () => {
    const toolQueue = `tools-of-a-gone-host-${randomUUID()}`;
    h.model.enqueue(respond(shellCall('echo from the tool host')), respond(assistantMessage('done')));
    const threadId = `t-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings({ toolTaskQueue: toolQueue }), text: 'run a tool', taskQueue: h.taskQueue });
    const notices: string[] = [];
    const following = followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50, onNotice: (m) => notices.push(m) });

    // The turn-start checkpoint and the call (it cannot change files, so it does not wait
    // for the checkpoint) both wait on the queue: each is told once.
    const waiting = new RegExp(`^waiting for a worker on task queue "${toolQueue}": (a tool call, then inference #2|a workspace checkpoint) has waited \\d+ s and no worker has taken it; no worker polls it \\(start one: .*\\)$`);
    const toldOnceEach = () => {
      expect(notices.filter((n) => !waiting.test(n))).toEqual([]);
      const tasks = notices.map((n) => waiting.exec(n)![1]);
      expect(tasks).toHaveLength(new Set(tasks).size);
    };
    await waitFor('the waiting notice', () => notices.some((n) => n.includes('waiting for a worker')), 60_000);
    toldOnceEach();

    const connection = await NativeConnection.connect({ address: h.address });
    let toolWorker: Worker | undefined;
    let running: Promise<void> | undefined;
    try {
      toolWorker = await createUnrollWorker({
        connection,
        namespace: 'default',
        taskQueue: toolQueue,
        workflowBundlePath: testEnvironment().bundlePath,
        deps: { store: h.store, apiKey: () => 'test-key', host: { shell: 'bash', timezone: 'UTC', now: () => new Date('2026-11-21T12:00:00Z') }, toolEnvironment: {} },
      });
      running = toolWorker.run();
      const result = await following;
      expect(result.status).toBe('completed');
      toldOnceEach();
    } finally {
      toolWorker?.shutdown();
      await running;
      await connection.close();
    }
  });
});
