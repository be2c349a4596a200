/**
 * An interrupt ends the turn in every phase, not only while the model streams or a tool
 * runs: while the turn's start (`beginTurn`) keeps failing on a full disk under the store,
 * and while a compaction request (local summary or remote /responses/compact) is still
 * waiting for the provider. The turn ends `interrupted` without waiting for the phase to
 * finish, the interruption is recorded, and the thread takes its next turn.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { interruptTurn } from '../../src/client/intervene';
import { describeThread, followTurn, startThread } from '../../src/client/threads';
import type { SessionSettings } from '../../src/config/settings';
import { messageText, type ConversationItem } from '../../src/items/schemas';
import type { TurnEvent } from '../../src/workflows/definitions';
import { replayThread } from '../../src/history/replay';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { startHarness, testEnvironment, transcriptItems, type Harness } from '../support/harness';
import { assistantMessage, hang, respond } from '../support/responses-builders';
import { waitFor } from '../support/worker-process';

jest.setTimeout(120_000);

/** A context so small that the turn compacts right after writing the user's message. */
const COMPACT_AT_ONCE = (compaction: 'local' | 'remote'): Partial<SessionSettings> => ({
  context: { windowTokens: 100_000, autoCompactTokens: 100, compaction, recentUserMessageTokens: 1_000, stepsPerRun: null },
});

const textOf = (item: ConversationItem | undefined) => (item?.type === 'message' ? messageText(item) : '');

describe('interrupting a turn in any phase', () => {
  let h: Harness;
  /** A tmpfs mounted over the store, to unmount even when a test fails half-way. */
  let mounted: string | null = null;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => {
    if (mounted !== null) execFileSync('umount', ['-l', mounted]);
    mounted = null;
    h.model.assertProtocol();
  });

  async function start(text: string, overrides: Partial<SessionSettings> = {}) {
    const threadId = `phase-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings(overrides), text, taskQueue: h.taskQueue });
    const events: TurnEvent[] = [];
    const done = followTurn(h.client, started.turnWorkflowId, (e) => void events.push(e), { pollMs: 50 });
    return { threadId, turnId: started.turnWorkflowId, events, done };
  }

  test('while beginTurn keeps failing on a full store, the turn ends interrupted and the thread goes on once space is back', async () => {
    const storeDir = path.join(h.home, 'store');
    await mkdir(storeDir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', storeDir]);
    mounted = storeDir;
    await writeFile(path.join(storeDir, 'filler'), Buffer.alloc(256 * 1024)).catch(() => undefined);
    const requestsBefore = h.model.requests.length;
    const { threadId, turnId, events, done } = await start('write this to a full disk');
    await waitFor('beginTurn to be retrying', async () => {
      const pending = (await h.client.workflow.getHandle(turnId).describe()).raw.pendingActivities ?? [];
      return pending.some((a) => a.activityType?.name === 'beginTurn' && (a.attempt ?? 0) >= 2);
    });
    await interruptTurn(h.client, threadId, 'the disk is full');
    const result = await done;

    expect(result).toMatchObject({ status: 'interrupted', steps: 0, head: null, error: null });
    expect(events.filter((e) => e.kind === 'turn.interrupted')).toMatchObject([{ reason: 'the disk is full' }]);
    expect(h.model.requests.length).toBe(requestsBefore);
    await waitFor('the session to record the turn', async () => (await describeThread(h.client, threadId)).lastTurn?.turn === 1);
    expect((await describeThread(h.client, threadId)).lastTurn).toMatchObject({ status: 'interrupted' });

    execFileSync('umount', [storeDir]);
    mounted = null;
    h.model.enqueue(respond(assistantMessage('space is back')));
    const next = await h.runTurn(threadId, 'try again');
    expect(next.result.status).toBe('completed');
    // The interrupted turn never reached the transcript: the model sees only the new message.
    expect(JSON.stringify(h.model.requests.at(-1)?.input)).not.toContain('write this to a full disk');
    const outcomes = await replayThread(await fetchThreadHistories(h.client, threadId), { workflowBundlePath: testEnvironment().bundlePath });
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  });

  test('while a local compaction summary is being written, the turn ends interrupted and records the interruption after the user message', async () => {
    h.model.enqueue(hang());
    const requestsBefore = h.model.requests.length;
    const { threadId, events, done } = await start('compact me right away', COMPACT_AT_ONCE('local'));
    await h.model.waitForRequests(requestsBefore + 1);
    await interruptTurn(h.client, threadId, 'stop compacting');
    const result = await done;

    expect(result).toMatchObject({ status: 'interrupted', steps: 0, compactions: 0 });
    expect(events.filter((e) => e.kind === 'turn.interrupted')).toMatchObject([{ reason: 'stop compacting' }]);
    const items = await transcriptItems(h, result.head);
    expect(textOf(items[items.length - 2])).toBe('compact me right away');
    expect(textOf(items[items.length - 1])).toContain('<turn_aborted>');
    // The compaction request was abandoned, not left running, and no inference followed.
    await waitFor('the compaction stream to be closed', () => h.model.openStreams() === 0);
    expect(h.model.requests.length).toBe(requestsBefore + 1);
    // The summary request was never answered: the next request need not extend it.
    h.model.allowPrefixBreak(threadId);

    h.model.enqueue(respond(assistantMessage('SUMMARY: nothing yet')), respond(assistantMessage('done now')));
    const next = await h.runTurn(threadId, 'go on');
    expect(next.result).toMatchObject({ status: 'completed', lastMessage: expect.objectContaining({ excerpt: 'done now' }) });
  });

  test('while a remote compaction request is in flight, the turn ends interrupted and the request is abandoned', async () => {
    h.model.enqueueCompact({ kind: 'hang' });
    const compactsBefore = h.model.compactRequests.length;
    const requestsBefore = h.model.requests.length;
    const { threadId, done } = await start('compact me remotely', COMPACT_AT_ONCE('remote'));
    await waitFor('the compaction request', () => h.model.compactRequests.length > compactsBefore);
    await interruptTurn(h.client, threadId, 'stop compacting');
    const result = await done;

    expect(result).toMatchObject({ status: 'interrupted', steps: 0, compactions: 0 });
    const items = await transcriptItems(h, result.head);
    expect(textOf(items[items.length - 2])).toBe('compact me remotely');
    expect(textOf(items[items.length - 1])).toContain('<turn_aborted>');
    await waitFor('the compaction request to be abandoned', () => h.model.openStreams() === 0);
    expect(h.model.requests.length).toBe(requestsBefore);
    expect(h.model.compactRequests.length).toBe(compactsBefore + 1);
  });
});
