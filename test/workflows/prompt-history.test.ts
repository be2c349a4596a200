/**
 * The user's text enters Temporal history once: as the argument of the update that
 * delivers it. From there it travels as a store reference (the child turn's input, the
 * turn's activities, the steering signal), and summaries carry only a short excerpt, so
 * a large prompt costs its own size in history and not a multiple of it. Counted in
 * every payload of every history of the thread, as the server stores them.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { sendInput } from '../../src/client/intervene';
import { followTurn, startThread } from '../../src/client/threads';
import { buildThreadRun } from '../../src/history/build-run';
import { fetchThreadHistories, type ThreadHistories } from '../../src/history/thread-histories';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import { waitFor } from '../support/worker-process';

jest.setTimeout(120_000);

/** Every byte array in a history (payload data, metadata), decoded as UTF-8. */
function payloadTexts(value: unknown, out: string[] = []): string[] {
  if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (Array.isArray(value)) for (const v of value) payloadTexts(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) payloadTexts(v, out);
  return out;
}

function occurrences(histories: ThreadHistories, marker: string): number {
  return histories.workflows.flatMap((w) => payloadTexts(w.history)).reduce((n, text) => n + text.split(marker).length - 1, 0);
}

function payloadBytes(histories: ThreadHistories): number {
  return histories.workflows.flatMap((w) => payloadTexts(w.history)).reduce((n, text) => n + Buffer.byteLength(text), 0);
}

/** A large text with a marker well past any excerpt's reach. */
function largeText(marker: string, bytes: number): string {
  return `${'a'.repeat(1_000)} ${marker} ${'b'.repeat(bytes - 1_000 - marker.length - 2)}`;
}

describe('the user text in Temporal history', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => h.model.assertProtocol());

  test('a 250 KB prompt appears once in the thread history, and the model and `show` still get all of it', async () => {
    const marker = 'PROMPT-MARKER-7f3a';
    const prompt = largeText(marker, 250 * 1024);
    h.model.enqueue(respond(assistantMessage('read it')));
    const { threadId, result } = await h.runThread(prompt);
    expect(result.status).toBe('completed');
    expect(JSON.stringify(h.model.requests.at(-1)?.input)).toContain(JSON.stringify(prompt));

    const histories = await fetchThreadHistories(h.client, threadId);
    expect(occurrences(histories, marker)).toBe(1);
    // Measured: 1,030,988 bytes of payloads (four copies) before the text went by reference; 263,692 after.
    expect(payloadBytes(histories)).toBeLessThan(prompt.length + 64 * 1024);
    const run = await buildThreadRun(histories, h.store);
    expect(run.turns[0].userText).toBe(prompt);
  });

  test('a 100 KB message sent into a running turn appears once in the thread history and reaches the model', async () => {
    const marker = 'STEER-MARKER-91c2';
    const message = largeText(marker, 100 * 1024);
    h.model.enqueue(respond(shellCall('touch started.txt; sleep 2', { timeout_ms: 10_000 })), respond(assistantMessage('adjusted')));
    const threadId = `steer-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings(), text: 'work slowly', taskQueue: h.taskQueue });
    const done = followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });
    await waitFor('the command to run', () => existsSync(path.join(h.workspace, 'started.txt')));
    expect((await sendInput(h.client, threadId, message)).delivered).toBe('running-turn');
    expect((await done).status).toBe('completed');
    expect(JSON.stringify(h.model.requests.at(-1)?.input.slice(-1))).toContain(JSON.stringify(message));

    const histories = await fetchThreadHistories(h.client, threadId);
    expect(occurrences(histories, marker)).toBe(1);
  });
});
