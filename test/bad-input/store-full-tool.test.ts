/**
 * A shell command that finishes while the store's disk is full: its output cannot be
 * recorded yet, so the tool activity retries. The retry must record the real output
 * (kept in the worker's memory) once space is back, never report the command as
 * "interrupted" (the worker did not die) and never run it again.
 */
import { readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { followTurn, startThread } from '../../src/client/threads';
import { INTERRUPTED_OUTPUT } from '../../src/activities/tools';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import { mountSmallDisk, unmountSmallDisk } from '../support/small-disk';
import { waitFor } from '../support/worker-process';

jest.setTimeout(90_000);

describe('a tool result that cannot be stored yet', () => {
  let h: Harness;
  let storeDir: string;

  beforeAll(async () => {
    h = await startHarness();
    storeDir = path.join(h.home, 'store');
    await h.stopWorker();
    await mountSmallDisk(storeDir, '2m');
    await h.startWorker();
  });
  afterAll(async () => {
    await h.stopWorker();
    await unmountSmallDisk(storeDir);
    await h.close();
  });

  test('a command that finished while the store was full reaches the model with its real output, run once', async () => {
    const filler = path.join(storeDir, 'filler');
    const ledger = path.join(h.workspace, 'ledger.txt');
    h.model.enqueue(
      respond(shellCall(`echo ran >> ${ledger}; head -c 10M /dev/zero > ${filler} 2>/dev/null; echo hello-from-command`)),
      respond(assistantMessage('ok')),
    );
    const started = await startThread(h.client, { threadId: `t-${randomUUID()}`, settings: h.settings(), text: 'go', taskQueue: h.taskQueue });
    let lastFailure = '';
    await waitFor('the tool activity to retry on the full store', async () => {
      const { raw } = await h.client.workflow.getHandle(started.turnWorkflowId).describe();
      const pending = (raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'runTool' || a.activityType?.name === 'runToolAndInfer');
      lastFailure = pending?.lastFailure?.message ?? '';
      return (pending?.attempt ?? 0) >= 2 && lastFailure !== '';
    });
    expect(lastFailure).toMatch(/store write failed: no space left on device; retrying/);
    await rm(filler);

    const result = await followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });
    expect(result.status).toBe('completed');
    const outputs = h.model.requests[1].input.filter((i) => i.type === 'function_call_output').map((i) => String(i.output));
    expect(outputs).toHaveLength(1);
    expect(outputs[0]).toContain('hello-from-command');
    expect(outputs[0]).not.toContain(INTERRUPTED_OUTPUT);
    expect(await readFile(ledger, 'utf8')).toBe('ran\n');
    h.model.assertProtocol();
  });
});
