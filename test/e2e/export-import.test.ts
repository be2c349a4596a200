/**
 * A thread exported from one machine and imported into a fresh Unroll home: `show` and
 * `replay` give the same result there without any server, straight from the bundle file
 * too, and the imported thread can be forked on a dev server as if it had run there.
 * The compiled CLI runs in child processes (`npm run build` first).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { buildThreadRun } from '../../src/history/build-run';
import { replayThread, type ReplayOutcome } from '../../src/history/replay';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { openFsStore } from '../../src/store';
import { settled } from '../replay/corpus-scenarios';
import { startHarness, testEnvironment, type Harness } from '../support/harness';
import { assistantMessage, httpError, respond, shellCall } from '../support/responses-builders';
import { offlineEnv, runCli } from './run-cli';

jest.setTimeout(180_000);

describe('export and import', () => {
  let h: Harness;
  let threadId: string;
  let fresh: string;
  let bundleFile: string;
  let serverJson: unknown;
  const call = shellCall('echo exported-output');

  beforeAll(async () => {
    h = await startHarness();
    fresh = await mkdtemp(path.join(os.tmpdir(), 'unroll-fresh-home-'));
    bundleFile = path.join(fresh, 'exported', 'thread.unroll.gz');
    h.model.enqueue(respond(call), httpError(503), respond(assistantMessage('first answer')));
    threadId = (await h.runThread('export me')).threadId;
    h.model.enqueue(respond(assistantMessage('second answer')));
    await h.runTurn(threadId, 'and again');
    await settled(h, threadId);
    serverJson = JSON.parse(JSON.stringify(await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store)));
  });
  afterAll(async () => {
    await h.close();
    await rm(fresh, { recursive: true, force: true });
  });

  const serverEnv = () => ({ ...offlineEnv(h.home), UNROLL_TEMPORAL_ADDRESS: h.address });

  test('export writes a bundle of every workflow run and the objects they reference', async () => {
    const run = await runCli(['export', threadId, '-o', bundleFile], serverEnv(), h.workspace);
    expect(run.stderr).toMatch(new RegExp(`exported ${threadId}: 3 workflow run\\(s\\), \\d+ store object\\(s\\) → ${bundleFile}`));
    expect(run.code).toBe(0);
  });

  test('after import into a fresh home, show gives the same result with no server', async () => {
    const imported = await runCli(['import', bundleFile], offlineEnv(fresh), fresh);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toContain(`imported ${threadId}`);
    const shown = await runCli(['show', threadId, '--json'], offlineEnv(fresh), fresh);
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(serverJson);
    const human = await runCli(['show', threadId], offlineEnv(fresh), fresh);
    expect(human.stdout).toContain('exported-output');
    expect(human.stdout).toContain('retried: 2 attempts');
    // The objects are in the fresh store itself, not only in the bundle.
    const lastHead = (serverJson as { turns: { endHead: string }[] }).turns[1].endHead;
    expect((await openFsStore(fresh).loadTranscript(lastHead)).length).toBeGreaterThan(4);
  });

  test('the bundle file itself shows the same, without importing', async () => {
    const shown = await runCli(['show', bundleFile, '--json'], offlineEnv(await mkdtemp(path.join(os.tmpdir(), 'unroll-empty-home-'))), fresh);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual(serverJson);
  });

  test('after import, replay gives the same result as replaying the server histories', async () => {
    const code = { workflowBundlePath: testEnvironment().bundlePath };
    const expected = (await replayThread(await fetchThreadHistories(h.client, threadId), code)).map((o) => [o.workflowId, o.runId, o.ok]);
    const run = await runCli(['replay', threadId, '--json', '--workflow-bundle', code.workflowBundlePath], offlineEnv(fresh), fresh);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { outcomes: ReplayOutcome[] };
    expect(report.outcomes.map((o) => [o.workflowId, o.runId, o.ok])).toEqual(expected);
    expect(expected.every(([, , ok]) => ok)).toBe(true);
  });

  test('an imported thread can be forked on a dev server from the fresh home', async () => {
    h.model.enqueue(respond(assistantMessage('continued elsewhere')));
    const before = h.model.requests.length;
    const env = { ...offlineEnv(fresh), UNROLL_TEMPORAL_ADDRESS: h.address, UNROLL_TASK_QUEUE: `fresh-${randomUUID()}`, OPENAI_API_KEY: 'test-key' };
    const run = await runCli(['fork', threadId, '--at', '1.1', '--message', 'continue here', '--json'], env, fresh);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(events[events.length - 1].type).toBe('turn.completed');
    const sent = h.model.requests[before].input;
    expect(sent.find((i) => i.type === 'function_call_output' && i.call_id === call.call_id)?.output).toContain('exported-output');
  });
});
