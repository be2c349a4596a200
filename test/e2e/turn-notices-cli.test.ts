/**
 * A turn never hangs silently and is never a silent success: `unroll exec` (the compiled
 * CLI, `npm run build` first) tells each retry of a step with the provider's status and
 * when the next attempt is, says which task queue a step waits on when no worker takes
 * it, and exits 1 naming the object when it cannot read what the turn recorded. In
 * `--json` the notices are `error` events, as `codex exec --json` reports reconnects.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { openStore } from '../../src/store';
import { testEnvironment } from '../support/harness';
import { assistantMessage, httpError, rateLimited, respond } from '../support/responses-builders';
import type { ScriptedResponsesServer } from '../support/responses-server';
import { spawnWorker, waitFor } from '../support/worker-process';
import { runCli, spawnCli, startCliFixture, type CliFixture } from './run-cli';

jest.setTimeout(180_000);

const NEXT_ATTEMPT = '(next attempt in \\d+ s|retrying now)';

describe('what exec tells while a turn waits', () => {
  let model: ScriptedResponsesServer;
  let home: string;
  let workspace: string;
  let env: Record<string, string | undefined>;
  let fixture: CliFixture;

  beforeAll(async () => {
    fixture = await startCliFixture('notices');
    ({ model, home, workspace, env } = fixture);
  });
  afterAll(async () => {
    await fixture.close();
  });
  afterEach(() => model.assertProtocol());

  // The provider asks for 3 s between attempts (Retry-After), so each retry is visible for seconds.
  const failTwiceThenAnswer = () =>
    model.enqueue(rateLimited(3), httpError(503, undefined, { 'retry-after': '3' }), respond(assistantMessage('answered at last')));

  test('exec prints one line per retried model request, with the provider status and when the next attempt is', async () => {
    failTwiceThenAnswer();
    const run = await runCli(['exec', 'ask the model'], env, workspace);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('answered at last\n');
    const retries = run.stderr.split('\n').filter((line) => line.startsWith('retrying:'));
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(new RegExp(`^retrying: inference #1 failed \\(attempt 1\\): .*answered 429: .*Rate limit reached; ${NEXT_ATTEMPT}$`));
    expect(retries[1]).toMatch(new RegExp(`^retrying: inference #1 failed \\(attempt 2\\): .*answered 503: .*; ${NEXT_ATTEMPT}$`));
  });

  test('exec --json reports each retry as an error event and the turn still completes', async () => {
    failTwiceThenAnswer();
    const run = await runCli(['exec', '--json', 'ask the model'], env, workspace);
    expect(run.code).toBe(0);
    const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; message?: string });
    const errors = events.filter((e) => e.type === 'error');
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^Reconnecting\.\.\. 1\/∞ \(.*answered 429.*next attempt in \d+ s\)$/), expect.stringMatching(/^Reconnecting\.\.\. 2\/∞ \(.*answered 503.*next attempt in \d+ s\)$/)]);
    expect(events[events.length - 1].type).toBe('turn.completed');
  });

  test('exec without a worker says which task queue it waits on, and finishes once a worker starts', async () => {
    const taskQueue = `notices-no-worker-${randomUUID()}`;
    const queueEnv = { ...env, UNROLL_TASK_QUEUE: taskQueue };
    model.enqueue(respond(assistantMessage('a worker came')));
    const exec = spawnCli(['exec', '--json', '--no-worker', 'wait for a worker'], queueEnv, workspace);
    await waitFor('the waiting notice', () => exec.stdout().includes('waiting for a worker'), 60_000);
    const notice = exec.stdout().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; message?: string }).find((e) => e.type === 'error');
    expect(notice?.message).toMatch(new RegExp(`^waiting for a worker on task queue "${taskQueue}": the next workflow task of th-[\\w-]+ has waited \\d+ s and no worker has taken it; no worker polls it`));
    const worker = await spawnWorker({ home, taskQueue, address: testEnvironment().address });
    try {
      const run = await exec.done;
      expect(run.code).toBe(0);
      expect(run.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type).pop()).toBe('turn.completed');
    } finally {
      await worker.stop();
    }
  });

  test('exec exits 1 naming the object when its store lacks what the turn recorded', async () => {
    // The worker runs on another "host" whose store directory is not the one this client
    // reads, yet claims the same store id (a copied store-id file): the store check cannot
    // tell them apart, so the client meets objects its store lacks. (Stores with different
    // ids are refused up front: test/e2e/shared-store.test.ts.)
    const otherHome = await mkdtemp(path.join(os.tmpdir(), 'unroll-notices-worker-home-'));
    const sameId = await openStore(undefined, { home }).storeId();
    await mkdir(path.join(otherHome, 'store'), { recursive: true });
    await writeFile(path.join(otherHome, 'store', 'store-id'), `${sameId}\n`);
    const taskQueue = `notices-other-store-${randomUUID()}`;
    const worker = await spawnWorker({ home: otherHome, taskQueue, address: testEnvironment().address });
    try {
      model.enqueue(respond(assistantMessage('an answer this client cannot read')));
      const run = await runCli(['exec', '--no-worker', 'hello'], { ...env, UNROLL_TASK_QUEUE: taskQueue }, workspace);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      const problem = /cannot read the message of step 1: item ([0-9a-f]{64}) is not in the transcript store/.exec(run.stderr);
      expect(problem).not.toBeNull();
      expect(run.stderr).toMatch(
        new RegExp(`unroll: turn th-[\\w-]+/turn-1 ended \\(completed\\), but part of it could not be read, so what was shown is incomplete: cannot read the message of step 1: item ${problem![1]} is not in the transcript store\\n$`),
      );
    } finally {
      await worker.stop();
      await rm(otherHome, { recursive: true, force: true });
    }
  });
});
