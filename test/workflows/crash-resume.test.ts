/**
 * Crash-resume: a worker in a child process is killed with SIGKILL in the middle of a
 * turn, a new worker finishes the turn. Nothing is lost and no command runs twice.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { isToolCall, isToolOutput, type ConversationItem } from '../../src/items/schemas';
import { followTurn, startThread } from '../../src/client/threads';
import { INTERRUPTED_OUTPUT } from '../../src/activities/tools';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import { spawnWorker, waitFor, type WorkerProcess } from '../support/worker-process';

jest.setTimeout(120_000);

/** Every call has exactly one output, and every output has its call. */
function expectPaired(items: ConversationItem[]): void {
  const calls = items.filter(isToolCall).map((c) => c.call_id);
  const outputs = items.filter(isToolOutput).map((o) => o.call_id);
  expect([...outputs].sort()).toEqual([...calls].sort());
  expect(new Set(outputs).size).toBe(outputs.length);
}

async function readLedger(workspace: string): Promise<string[]> {
  try {
    return (await readFile(path.join(workspace, 'ledger.txt'), 'utf8')).trim().split('\n');
  } catch {
    return [];
  }
}

describe('crash-resume', () => {
  let h: Harness;
  const workers: WorkerProcess[] = [];
  const startWorker = async () => {
    const w = await spawnWorker({ home: h.home, taskQueue: h.taskQueue, address: h.address });
    workers.push(w);
    return w;
  };

  beforeEach(async () => {
    h = await startHarness({ worker: false });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill()));
    await h.close();
  });

  test('a worker killed while the model stream is open is replaced and the turn completes', async () => {
    h.model.enqueue(
      respond(shellCall('echo one >> ledger.txt')),
      { kind: 'hang' },
      respond(assistantMessage('finished')),
    );
    const first = await startWorker();
    const threadId = `crash-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings(), text: 'go', taskQueue: h.taskQueue });
    await waitFor('the second model request (the one that hangs)', () => h.model.requests.length >= 2);
    await first.kill();
    await startWorker();

    const result = await followTurn(h.client, started.turnWorkflowId, () => undefined);
    expect(result.status).toBe('completed');
    expect(result.lastMessage?.excerpt).toBe('finished');
    expect(await readLedger(h.workspace)).toEqual(['one']);
    expect(h.model.requests).toHaveLength(3);
    expect(h.model.requests[2].input).toEqual(h.model.requests[1].input);
    expectPaired(await transcriptItems(h, result.head));
    h.model.assertProtocol();
  });

  test('a command interrupted by a worker crash is reported as interrupted, not run again', async () => {
    const pidFile = path.join(h.workspace, 'cmd.pid');
    h.model.enqueue(
      respond(shellCall('echo $$ > cmd.pid; echo start >> ledger.txt; sleep 20; echo end >> ledger.txt', { timeout_ms: 60_000 })),
      respond(assistantMessage('noted')),
    );
    const first = await startWorker();
    const threadId = `crash-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings(), text: 'go', taskQueue: h.taskQueue });
    await waitFor('the command to start', async () => (await readLedger(h.workspace)).includes('start'));
    await first.kill();
    // The orphaned command would go on; stop it as an operator would.
    const orphan = Number((await readFile(pidFile, 'utf8')).trim());
    try {
      process.kill(-orphan, 'SIGKILL');
    } catch {
      process.kill(orphan, 'SIGKILL');
    }
    await startWorker();

    const result = await followTurn(h.client, started.turnWorkflowId, () => undefined);
    expect(result.status).toBe('completed');
    expect(await readLedger(h.workspace)).toEqual(['start']);
    const items = await transcriptItems(h, result.head);
    expectPaired(items);
    const output = items.find(isToolOutput);
    expect(output?.output).toBe(INTERRUPTED_OUTPUT);
    // The model saw the interruption in its next request.
    expect(JSON.stringify(h.model.requests[1].input)).toContain('interrupted: the worker running this command stopped');
    h.model.assertProtocol();
  });
});
