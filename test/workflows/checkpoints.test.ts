/**
 * Workspace checkpoints in a real turn: after a shell step and an apply_patch step the
 * workspace is snapshotted on the thread's host, the step's record in history names the
 * checkpoint, ignored files stay out, the user's own git repository is untouched, and
 * checking a middle step out reproduces that step's files exactly.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkoutCheckpoint } from '../../src/checkpoints';
import { buildThreadRun } from '../../src/history/build-run';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { turnWorkflowId } from '../../src/shared/ids';
import { randomUUID } from 'node:crypto';
import { interruptTurn } from '../../src/client/intervene';
import { followTurn, startThread } from '../../src/client/threads';
import { waitFor } from '../support/worker-process';
import { fileTree, writeFiles } from '../support/file-trees';
import { startHarness, type Harness } from '../support/harness';
import { applyPatchCall, assistantMessage, hang, respond, shellCall, updatePlanCall } from '../support/responses-builders';

jest.setTimeout(120_000);

describe('workspace checkpoints in a turn', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => h.model.assertProtocol());

  test('shell and apply_patch steps are checkpointed, read-only and plan steps are not, and a middle step checks out exactly', async () => {
    await writeFiles(h.workspace, { 'README.md': 'start\n', '.gitignore': 'scratch/\n', 'node_modules/dep/index.js': 'x' });
    execFileSync('git', ['init', '-q'], { cwd: h.workspace, env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } });
    const userGit = await fileTree(path.join(h.workspace, '.git'));

    h.model.enqueue(
      respond(shellCall(['bash', '-lc', 'mkdir -p src scratch && echo one > src/a.txt && echo tmp > scratch/t.txt'])),
      respond(applyPatchCall('*** Begin Patch\n*** Update File: src/a.txt\n@@\n-one\n+two\n*** Add File: src/b.txt\n+bee\n*** End Patch')),
      respond(shellCall(['cat', 'src/a.txt'])),
      respond(updatePlanCall([{ step: 'done', status: 'completed' }])),
      respond(assistantMessage('done')),
    );
    const { threadId, result, events } = await h.runThread('make files');
    expect(result.status).toBe('completed');

    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    const [turn] = run.turns;
    expect(turn.startCheckpoint?.status).toBe('created');
    expect(turn.startCheckpoint?.changes.map((c) => c.path).sort()).toEqual(['.gitignore', 'README.md']);
    const [shellStep, patchStep, catStep, planStep, finalStep] = turn.steps;
    expect(shellStep.checkpoint).toMatchObject({ status: 'created', changeCount: 1, changes: [{ path: 'src/a.txt', status: 'A' }] });
    expect(patchStep.checkpoint?.status).toBe('created');
    expect([...patchStep.checkpoint!.changes].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'src/a.txt', status: 'M' },
      { path: 'src/b.txt', status: 'A' },
    ]);
    expect(catStep.checkpoint).toBeNull(); // `cat` is known to be read-only
    expect(planStep.checkpoint).toBeNull();
    expect(finalStep.checkpoint).toBeNull();
    expect(result.checkpoint).toBe(patchStep.checkpoint!.id);
    expect(events.filter((e) => e.kind === 'checkpoint').map((e) => e.kind === 'checkpoint' && [e.step, e.checkpoint.status])).toEqual([
      [0, 'created'],
      [1, 'created'],
      [2, 'created'],
    ]);
    expect(await fileTree(path.join(h.workspace, '.git'))).toEqual(userGit);

    // Step 1.1's files, after the shell command and before the patch.
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-checkout-'));
    try {
      await checkoutCheckpoint({ store: h.store, root: path.join(out, '.cache'), threadId }, shellStep.checkpoint!.id!, path.join(out, 'ws'));
      expect(await fileTree(path.join(out, 'ws'))).toEqual({
        'README.md': expect.objectContaining({ kind: 'file' }),
        '.gitignore': expect.objectContaining({ kind: 'file' }),
        'src/a.txt': expect.objectContaining({ kind: 'file' }),
      });
      expect(await fs.readFile(path.join(out, 'ws', 'src/a.txt'), 'utf8')).toBe('one\n');
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
  });

  test("a writing call and the next request run as one activity; the step's checkpoint follows it, and the next writing call waits for it", async () => {
    h.model.enqueue(
      respond(shellCall(['bash', '-lc', 'echo one > one.txt'])),
      respond(shellCall(['bash', '-lc', 'echo two > two.txt'])),
      respond(assistantMessage('done')),
    );
    const { threadId, result } = await h.runThread('write two files');
    expect(result.status).toBe('completed');
    const { events } = await h.client.workflow.getHandle(turnWorkflowId(threadId, 1)).fetchHistory();
    const scheduled = (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
    const completion = (e: (typeof scheduled)[number]) => (events ?? []).find((c) => String(c.activityTaskCompletedEventAttributes?.scheduledEventId) === String(e.eventId));
    const checkpoint1 = scheduled.find((e) => e.activityTaskScheduledEventAttributes!.activityType?.name === 'checkpointWorkspace' && Buffer.from(e.userMetadata?.summary?.data ?? []).toString() === JSON.stringify('checkpoint 1.1'));
    const tools = scheduled.filter((e) => ['runTool', 'runToolAndInfer'].includes(e.activityTaskScheduledEventAttributes!.activityType?.name ?? ''));
    // Both writes were chained with the request after them: no request of their own.
    expect(tools.map((e) => e.activityTaskScheduledEventAttributes!.activityType?.name)).toEqual(['runToolAndInfer', 'runToolAndInfer']);
    expect(scheduled.filter((e) => e.activityTaskScheduledEventAttributes!.activityType?.name === 'runInference')).toHaveLength(1);
    // Step 1's snapshot was taken once its chained activity had ended (the files it holds
    // are the command's), and step 2's write started only once that snapshot was done.
    expect(checkpoint1).toBeDefined();
    expect(Number(checkpoint1!.eventId)).toBeGreaterThan(Number(completion(tools[0])!.eventId));
    expect(Number(tools[1].eventId)).toBeGreaterThan(Number(completion(checkpoint1!)!.eventId));
    // And each step still has its own checkpoint.
    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    expect(run.turns[0].steps.map((step) => step.checkpoint?.status ?? null)).toEqual(['created', 'created', null]);
    expect(result.checkpoint).toBe(run.turns[0].steps[1].checkpoint!.id);
  });

  test("a read-only call runs beside the last step's checkpoint; the next call that may write waits for it", async () => {
    // 20 MB of random bytes: the snapshot (hashing, compressing) outlasts the next request and the read-only call.
    h.model.enqueue(
      respond(shellCall(['bash', '-lc', 'head -c 20000000 /dev/urandom > big.bin'])),
      respond(shellCall(['cat', 'big.bin.txt'])),
      respond(shellCall(['bash', '-lc', 'echo three > three.txt'])),
      respond(assistantMessage('done')),
    );
    await fs.writeFile(path.join(h.workspace, 'big.bin.txt'), 'a small file\n');
    const { threadId, result } = await h.runThread('write a big file, read, write');
    expect(result.status).toBe('completed');
    const { events } = await h.client.workflow.getHandle(turnWorkflowId(threadId, 1)).fetchHistory();
    const scheduled = (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
    const ofStep = (step: number) => scheduled.find((e) => ['runTool', 'runToolAndInfer'].includes(e.activityTaskScheduledEventAttributes!.activityType?.name ?? '') && (e.activityTaskScheduledEventAttributes!.input?.payloads?.length ?? 0) > 0 && JSON.parse(Buffer.from(e.activityTaskScheduledEventAttributes!.input!.payloads![0].data!).toString()).step === step);
    const checkpoint1 = scheduled.find((e) => e.activityTaskScheduledEventAttributes!.activityType?.name === 'checkpointWorkspace' && Buffer.from(e.userMetadata?.summary?.data ?? []).toString() === JSON.stringify('checkpoint 1.1'));
    const checkpoint1Done = (events ?? []).find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(checkpoint1!.eventId));
    // `cat` started while the snapshot still ran; the write of step 3 only after it.
    expect(Number(ofStep(2)!.eventId)).toBeLessThan(Number(checkpoint1Done!.eventId));
    expect(Number(ofStep(3)!.eventId)).toBeGreaterThan(Number(checkpoint1Done!.eventId));
    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    expect(run.turns[0].steps.map((step) => step.checkpoint?.status ?? null)).toEqual(['created', null, 'created', null]);
    expect(result.checkpoint).toBe(run.turns[0].steps[2].checkpoint!.id);
    await fs.rm(path.join(h.workspace, 'big.bin'), { force: true });
  });

  test("an interrupt during the next request keeps the step's checkpoint", async () => {
    // A workspace big enough that the snapshot is still running when the interrupt comes.
    await writeFiles(h.workspace, Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`bulk/f${i}.txt`, `file ${i}\n`.repeat(50)])));
    h.model.enqueue(respond(shellCall(['bash', '-lc', 'echo kept > kept.txt'])), hang());
    const threadId = `t-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings(), text: 'write, then think forever', taskQueue: h.taskQueue });
    const requestsBefore = h.model.requests.length;
    const done = followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });
    await waitFor('the second request', () => h.model.requests.length >= requestsBefore + 2);
    await interruptTurn(h.client, threadId, 'stop');
    const result = await done;

    expect(result.status).toBe('interrupted');
    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    const step1 = run.turns[0].steps[0];
    expect(step1.checkpoint).toMatchObject({ status: 'created', changes: [{ path: 'kept.txt', status: 'A' }] });
    expect(result.checkpoint).toBe(step1.checkpoint!.id);
    await fs.rm(path.join(h.workspace, 'bulk'), { recursive: true, force: true });
  });

  test('the next turn starts from the thread’s latest checkpoint, and an unchanged workspace records no new one', async () => {
    h.model.enqueue(respond(shellCall(['bash', '-lc', 'echo a > f.txt'])), respond(assistantMessage('ok')));
    const { threadId, result } = await h.runThread('write f');
    h.model.enqueue(respond(shellCall(['bash', '-lc', 'rm -f no-such-file'])), respond(assistantMessage('nothing to do')));
    const second = await h.runTurn(threadId, 'again');
    expect(second.result.checkpoint).toBe(result.checkpoint);
    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    expect(run.turns[1].startCheckpoint).toMatchObject({ status: 'unchanged', id: result.checkpoint });
    expect(run.turns[1].steps[0].checkpoint).toMatchObject({ status: 'unchanged', id: result.checkpoint });
  });

  test('a workspace over the size cap is recorded as skipped with the reason, and the turn goes on', async () => {
    h.model.enqueue(respond(shellCall(['bash', '-lc', 'head -c 5000 /dev/zero > big.bin'])), respond(assistantMessage('ok')));
    const { threadId, result, events } = await h.runThread('make a big file', { checkpoints: { enabled: true, maxBytes: 4096 } });
    expect(result.status).toBe('completed');
    const skipped = events.find((e) => e.kind === 'checkpoint' && e.step === 1);
    expect(skipped).toMatchObject({ checkpoint: { status: 'skipped', reason: expect.stringMatching(/over the checkpoint size cap/) } });
    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    expect(run.turns[0].steps[0].checkpoint?.status).toBe('skipped');
  });
});
