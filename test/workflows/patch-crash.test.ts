/**
 * A worker process killed with SIGKILL in the middle of a multi-file apply_patch: the
 * first file is written, the second is not. The activity's retry, on a new worker, must
 * finish the patch without applying any part of it twice, and the model must get one
 * "Success" for the call. The kill lands at an exact step because the first worker is
 * ./support/pausing-worker.ts, which stops dead there (needs `npm run build`).
 */
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { followTurn, startThread } from '../../src/client/threads';
import { checkPatchApplication } from '../../src/tools/apply-patch/check';
import { startHarness, type Harness } from '../support/harness';
import { PAUSING_WORKER } from '../support/pausing-worker';
import { applyPatchCall, assistantMessage, respond } from '../support/responses-builders';
import { spawnWorker, waitFor, type WorkerProcess } from '../support/worker-process';

jest.setTimeout(120_000);

const patch = (...body: string[]): string => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

describe('apply_patch when its worker is killed mid-patch', () => {
  let h: Harness;
  let before: string;
  const workers: WorkerProcess[] = [];

  beforeEach(async () => {
    h = await startHarness({ worker: false });
    before = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-patch-before-'));
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill()));
    await h.close();
    await fs.rm(before, { recursive: true, force: true });
  });

  test('the retry on a new worker finishes the patch without appending twice, and the model gets one Success', async () => {
    const bigLines = Array.from({ length: 5000 }, (_, i) => `+row ${i} ${'y'.repeat(60)}`);
    const text = patch('*** Update File: log.txt', '@@', '+second', '*** Add File: data/big.txt', ...bigLines);
    for (const dir of [h.workspace, before]) await fs.writeFile(path.join(dir, 'log.txt'), 'first\n');
    h.model.enqueue(respond(applyPatchCall(text, 'call_patch')), respond(assistantMessage('patched')));

    const pausedFile = path.join(h.home, 'paused');
    const env = { UNROLL_TEST_PAUSE_AT: 'apply_patch:committed:log.txt', UNROLL_TEST_PAUSED_FILE: pausedFile };
    workers.push(await spawnWorker({ home: h.home, taskQueue: h.taskQueue, address: h.address, script: PAUSING_WORKER, env }));
    const started = await startThread(h.client, { threadId: `patch-crash-${randomUUID()}`, settings: h.settings(), text: 'patch it', taskQueue: h.taskQueue });
    await waitFor('the worker to stop after writing log.txt', () => existsSync(pausedFile));
    await workers[0].kill();
    // The kill landed mid-patch: the append is in place, the large file is not.
    expect(await fs.readFile(path.join(h.workspace, 'log.txt'), 'utf8')).toBe('first\nsecond\n');
    expect(existsSync(path.join(h.workspace, 'data', 'big.txt'))).toBe(false);

    workers.push(await spawnWorker({ home: h.home, taskQueue: h.taskQueue, address: h.address }));
    const result = await followTurn(h.client, started.turnWorkflowId, () => undefined);

    expect(result.status).toBe('completed');
    expect(await fs.readFile(path.join(h.workspace, 'log.txt'), 'utf8')).toBe('first\nsecond\n');
    expect(await checkPatchApplication(text, before, h.workspace)).toEqual({ verdict: 'once', paths: { 'log.txt': 'patched', 'data/big.txt': 'patched' }, leftovers: [] });
    expect(h.model.requests).toHaveLength(2);
    const outputs = h.model.requests[1].input.filter((item) => item.type === 'function_call_output');
    expect(outputs).toEqual([{ type: 'function_call_output', call_id: 'call_patch', output: 'Success. Updated the following files:\nM log.txt\nA data/big.txt' }]);
    h.model.assertProtocol();
  });
});
