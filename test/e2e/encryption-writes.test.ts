/**
 * A client without the key must not write to an encrypted thread: every writing command
 * (resume, send, approve, deny, interrupt, compact, fork) refuses with the message the
 * README promises (`… is encrypted (key "k") and no key is configured`) before anything
 * reaches the server, so no plaintext lands in the thread's history and no turn runs.
 * Through the compiled CLI (`npm run build` first), with a worker that has the key
 * serving the thread (it would run a turn if a message got through).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseKeyFile } from '../../src/codec';
import { describeThread } from '../../src/client/threads';
import { settled } from '../replay/corpus-scenarios';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, respond } from '../support/responses-builders';
import { offlineEnv, runCli } from './run-cli';

jest.setTimeout(240_000);

describe('writing to an encrypted thread without its key', () => {
  const keySpec = `thread-key:${randomBytes(32).toString('base64')}`;
  let h: Harness;
  let threadId: string;

  beforeAll(async () => {
    h = await startHarness({ keys: parseKeyFile(keySpec, 'spec') });
    h.model.enqueue(respond(assistantMessage('first answer')));
    threadId = (await h.runThread('an encrypted task')).threadId;
    await settled(h, threadId);
  });
  afterAll(async () => {
    await h?.close();
  });

  const clientEnv = (extra: Record<string, string> = {}) => ({
    ...offlineEnv(h.home),
    UNROLL_TEMPORAL_ADDRESS: h.address,
    UNROLL_TASK_QUEUE: h.taskQueue,
    UNROLL_BASE_URL: h.model.url,
    OPENAI_API_KEY: 'test-key',
    UNROLL_WORKER_WAIT_MS: '5000',
    ...extra,
  });

  /** The thread's session history as the server stores it: its events (id and type) and its text. */
  const rawHistory = async () => {
    const history = await h.client.workflow.getHandle(threadId).fetchHistory();
    return { events: (history.events ?? []).map((e) => `${String(e.eventId)} ${String(e.eventType)}`), text: JSON.stringify(history) };
  };

  test.each<[string, (marker: string) => string[]]>([
    ['send', (marker) => ['send', threadId, marker]],
    ['resume', (marker) => ['resume', '--no-worker', threadId, marker]],
    ['approve', () => ['approve', threadId, 'call_1']],
    ['deny', () => ['deny', threadId]],
    ['interrupt', () => ['interrupt', threadId]],
    ['compact', () => ['compact', '--no-worker', threadId]],
  ])('%s refuses before writing anything, naming the thread and its key', async (_command, args) => {
    const marker = `PLAINTEXT-${randomUUID()}`;
    const before = await rawHistory();
    const requests = h.model.requests.length;
    const run = await runCli(args(marker), clientEnv(), h.home);
    const after = await rawHistory();
    expect(after.events).toEqual(before.events);
    expect(after.text).not.toContain(marker);
    expect(h.model.requests.length).toBe(requests);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `unroll: thread ${threadId} is encrypted (key "thread-key") and no key is configured: set UNROLL_ENCRYPTION_KEY_FILE (or UNROLL_ENCRYPTION_KEY, or encryption.keyFile in config.json)\n`,
    );
    expect((await describeThread(h.client, threadId)).turns).toBe(1);
  });

  test('fork refuses to read the encrypted parent without the key and starts nothing', async () => {
    const run = await runCli(['fork', '--no-worker', threadId, '--at', '1.1', '--message', 'go on'], clientEnv(), h.home);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^unroll: the history of .* is encrypted \(key "thread-key"\) and no key is configured/);
    expect(run.stdout).toBe('');
  });

  test('a client whose key ring lacks the thread key refuses too, naming the key it needs', async () => {
    const before = await rawHistory();
    const run = await runCli(['send', threadId, 'hello'], clientEnv({ UNROLL_ENCRYPTION_KEY: `other-key:${randomBytes(32).toString('base64')}` }), h.home);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `unroll: thread ${threadId} was encrypted with key "thread-key", which is not in the key ring (it holds: other-key); add that key to the key file (keys after the first are used for decryption only)\n`,
    );
    expect((await rawHistory()).events).toEqual(before.events);
  });

  test('with the key, send still reaches the thread and runs a turn', async () => {
    h.model.enqueue(respond(assistantMessage('second answer')));
    const run = await runCli(['send', threadId, 'and now?'], clientEnv({ UNROLL_ENCRYPTION_KEY: keySpec }), h.home);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('no turn was running: the message started turn 2\n');
    await settled(h, threadId);
    expect((await describeThread(h.client, threadId)).turns).toBe(2);
  });
});
