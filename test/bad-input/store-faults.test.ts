/**
 * Faults of the transcript store under a running turn, injected for real: the store is a
 * small tmpfs (tests run as root) that is filled to the last byte or remounted
 * read-only, and its object files are overwritten or deleted.
 *
 * - A disk that refuses writes keeps the step retrying with backoff, the activity's last
 *   failure says why ("store write failed: no space left on device; retrying"), no
 *   temporary file is left behind, the model is asked once, and the turn completes
 *   once the disk takes writes again.
 * - An object that is corrupt or missing ends the turn as `failed` after a few attempts
 *   with a message naming the object, what it is and the thread; the model is not asked
 *   again and again, and the session lives on.
 */
import { readdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { answerApproval, pendingApprovals } from '../../src/client/intervene';
import { WorkflowFailedError } from '@temporalio/client';
import { compactThread, describeThread, followTurn, startThread, submitTurn } from '../../src/client/threads';
import { sessionWorkflowId } from '../../src/shared/ids';
import { StoreFailureType } from '../../src/shared/failure-types';
import { turnProgressQuery, type TurnEvent } from '../../src/workflows/definitions';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import { fillDisk, freeDisk, mountSmallDisk, remountSmallDisk, unmountSmallDisk } from '../support/small-disk';
import { waitFor } from '../support/worker-process';

const SCHEDULED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;

/** A refusal of the disk under the store, and how to end it. */
interface DiskFault {
  readonly name: string;
  readonly inject: (storeDir: string) => Promise<() => Promise<void>>;
  readonly reason: string;
  readonly code: string;
}

const FULL_DISK: DiskFault = {
  name: 'a full disk',
  inject: async (dir) => {
    const filler = await fillDisk(dir);
    return () => freeDisk(filler);
  },
  reason: 'no space left on device',
  code: 'ENOSPC',
};

const READ_ONLY_DISK: DiskFault = {
  name: 'a disk remounted read-only',
  inject: async (dir) => {
    await remountSmallDisk(dir, 'ro');
    return () => remountSmallDisk(dir, 'rw');
  },
  reason: 'read-only file system',
  code: 'EROFS',
};

describe('store faults under a running turn', () => {
  let h: Harness;
  let storeDir: string;
  let firstRequest: number;

  beforeAll(async () => {
    h = await startHarness();
    storeDir = path.join(h.home, 'store');
    await mountSmallDisk(storeDir, '2m');
  });
  afterAll(async () => {
    await h.stopWorker();
    await unmountSmallDisk(storeDir);
    await h.close();
  });
  beforeEach(() => {
    firstRequest = h.model.requests.length;
  });
  afterEach(() => {
    h.model.assertProtocol();
    expect(h.model.pending()).toBe(0);
  });
  const requestsSinceStart = (): number => h.model.requests.length - firstRequest;

  /** The pending activity of `type` in a workflow: its attempt, state and last failure. */
  async function pendingActivity(workflowId: string, type: string) {
    const { raw } = await h.client.workflow.getHandle(workflowId).describe();
    const found = (raw.pendingActivities ?? []).find((a) => a.activityType?.name === type);
    return found ? { attempt: found.attempt ?? 0, state: found.state, lastFailure: found.lastFailure?.message ?? null } : undefined;
  }

  /** Waits until `type` has failed at least twice and waits for its next attempt (backoff). */
  async function retryingActivity(workflowId: string, type: string) {
    let seen: Awaited<ReturnType<typeof pendingActivity>>;
    await waitFor(`${type} to be retrying`, async () => {
      seen = await pendingActivity(workflowId, type);
      return seen !== undefined && seen.attempt >= 3 && seen.state === SCHEDULED;
    });
    return seen!;
  }

  /** Temporaries under the store, listed while no attempt runs (so none is mid-write). */
  async function tempFilesBetweenAttempts(workflowId: string, type: string): Promise<string[]> {
    for (;;) {
      const before = await retryingActivity(workflowId, type);
      const entries = await readdir(storeDir, { recursive: true });
      const after = await pendingActivity(workflowId, type);
      if (after?.state === SCHEDULED && after.attempt === before.attempt) return entries.filter((e) => path.basename(e).startsWith('.tmp-'));
    }
  }

  const objectFile = (hash: string) => path.join(storeDir, 'objects', hash.slice(0, 2), hash.slice(2));

  test.each([FULL_DISK, READ_ONLY_DISK])(
    '$name while a response is stored keeps the step retrying with a clear reason, asks the model once, and the turn completes once the disk recovers',
    async (fault) => {
      let repair: (() => Promise<void>) | undefined;
      h.model.setHandler(async () => {
        // The disk gives out while the model answers: the answer arrives, storing it fails.
        repair ??= await fault.inject(storeDir);
        return respond(assistantMessage(`kept through ${fault.name}`));
      });
      const threadId = `store-${randomUUID()}`;
      const started = await startThread(h.client, { threadId, settings: h.settings(), text: 'remember this', taskQueue: h.taskQueue });

      try {
        const waiting = await retryingActivity(started.turnWorkflowId, 'runInference');
        expect(waiting.lastFailure).toMatch(new RegExp(`^store write failed: ${fault.reason}; retrying \\(${fault.code} at ${storeDir}/.+\\)$`));
        expect((await h.client.workflow.getHandle(started.turnWorkflowId).query(turnProgressQuery, { after: 0 })).status).toBe('running');
        expect(await tempFilesBetweenAttempts(started.turnWorkflowId, 'runInference')).toEqual([]);
        expect(requestsSinceStart()).toBe(1);
      } finally {
        await repair?.();
      }
      const result = await followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });
      expect(result).toMatchObject({ status: 'completed', error: null, lastMessage: expect.objectContaining({ excerpt: `kept through ${fault.name}` }) });
      expect(requestsSinceStart()).toBe(1);
      expect((await readdir(storeDir, { recursive: true })).filter((e) => path.basename(e).startsWith('.tmp-'))).toEqual([]);
    },
  );

  test('a full disk while a compaction is stored keeps it retrying and does not ask the model for the summary again', async () => {
    h.model.enqueue(respond(assistantMessage('first answer')));
    const { threadId, result } = await h.runThread('a turn to compact');
    expect(result.status).toBe('completed');
    let repair: (() => Promise<void>) | undefined;
    h.model.setHandler(async () => {
      repair ??= await FULL_DISK.inject(storeDir);
      return respond(assistantMessage('the summary'));
    });

    const compaction = compactThread(h.client, threadId);
    compaction.catch(() => undefined); // awaited below; a failed assertion must not leave it unhandled
    try {
      const waiting = await retryingActivity(sessionWorkflowId(threadId), 'compactTranscript');
      expect(waiting.lastFailure).toMatch(/^store write failed: no space left on device; retrying \(ENOSPC at .+\)$/);
    } finally {
      await repair?.();
    }
    await expect(compaction).resolves.toMatchObject({ mode: 'local', reason: 'manual' });
    expect(requestsSinceStart()).toBe(2);
  });

  test.each([
    { damage: 'corrupted', object: 'transcript node', label: 'the step\'s transcript node', problem: 'is corrupt: content does not match its hash' },
    { damage: 'deleted', object: 'transcript node', label: 'the step\'s transcript node', problem: 'is missing from the transcript store' },
    { damage: 'corrupted', object: 'item', label: 'the tool call\'s item', problem: 'is corrupt: content does not match its hash' },
    { damage: 'deleted', object: 'item', label: 'the tool call\'s item', problem: 'is missing from the transcript store' },
  ])('$label $damage on disk ends the turn as failed after 3 attempts, naming it and the thread, with one model request', async ({ damage, object, problem }) => {
    // The first response asks for a command that needs approval: while it waits, the
    // step's node and the call's item are on disk and not yet read back by anyone.
    h.model.enqueue(respond(shellCall('echo ran >> ledger.txt')));
    const threadId = `store-${randomUUID()}`;
    const settings = h.settings({ approvalPolicy: 'untrusted' });
    const started = await startThread(h.client, { threadId, settings, text: 'run something', taskQueue: h.taskQueue });
    await waitFor('the approval request', async () => (await pendingApprovals(h.client, threadId)).length === 1);
    const progress = await h.client.workflow.getHandle(started.turnWorkflowId).query(turnProgressQuery, { after: 0 });
    const requested = progress.events.find((e): e is Extract<TurnEvent, { kind: 'approval.requested' }> => e.kind === 'approval.requested');
    const hash = object === 'item' ? requested!.call.itemHash : progress.head!;
    if (damage === 'deleted') await rm(objectFile(hash));
    else await writeFile(objectFile(hash), object === 'item' ? '{"type":"message"' : '{"kind":"node","parent":null,"items":[]}');

    await answerApproval(h.client, threadId, 'deny');
    const result = await followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });

    expect(result.status).toBe('failed');
    expect(result.error).toEqual({
      type: StoreFailureType.ObjectUnreadable,
      message: `${object} ${hash} of thread ${threadId} ${problem} (still so after 3 attempts: retrying cannot repair it)`,
    });
    expect(requestsSinceStart()).toBe(1);
    const thread = await describeThread(h.client, threadId);
    expect(thread).toMatchObject({ runningTurn: null, turns: 1, lastTurn: { status: 'failed', error: result.error } });
  });

  test('a corrupted head of an earlier turn ends the next turn after 3 attempts to begin it, naming the node and the thread, without asking the model', async () => {
    h.model.enqueue(respond(assistantMessage('first answer')));
    const { threadId, result: first } = await h.runThread('a turn to build on');
    const head = first.head!;
    await writeFile(objectFile(head), 'not the node that was written');

    const started = await submitTurn(h.client, threadId, 'go on');
    const outcome = await followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 }).catch((err: unknown) => err);

    const expected = `transcript node ${head} of thread ${threadId} is corrupt: content does not match its hash (still so after 3 attempts: retrying cannot repair it)`;
    // beginTurn runs before the turn's loop: until TurnWorkflow maps this failure to a
    // `failed` result (the workflow owner's part), it fails the turn workflow itself,
    // with the store's message as the cause of the activity failure.
    const message = outcome instanceof WorkflowFailedError
      ? (outcome.cause?.cause as Error | undefined)?.message
      : (outcome as { error?: { message?: string } }).error?.message;
    expect(message).toBe(expected);
    expect(requestsSinceStart()).toBe(1);
    expect(await describeThread(h.client, threadId)).toMatchObject({ runningTurn: null, turns: 2, lastTurn: { turn: 2, status: 'failed' } });
  });
});
