/**
 * `unroll replay` catches workflow code that cannot follow recorded histories: a build
 * of the workflows whose TurnWorkflow schedules an extra activity
 * (test/fixtures/divergent-workflows) is replayed against a recorded thread. The
 * session replays; every turn diverges at its first activity, and the CLI exits 1.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleHistories, readBundle } from '../../src/history/bundle';
import { replayThread, type ReplayOutcome } from '../../src/history/replay';
import { offlineEnv, runCli } from '../e2e/run-cli';
import { quietRuntime, testEnvironment } from '../support/harness';

jest.setTimeout(180_000);

const RECORDED = path.resolve(__dirname, '..', 'fixtures', 'corpus', 'multi-turn.unroll.gz');

describe('replay against divergent workflow code', () => {
  let dir: string;
  let divergent: string;

  beforeAll(async () => {
    quietRuntime();
    dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-divergent-'));
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../fixtures/divergent-workflows'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
    });
    divergent = path.join(dir, 'divergent-bundle.js');
    await writeFile(divergent, code);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('each turn reports the first non-determinism: the event and the activity the code scheduled instead', async () => {
    const bundle = await readBundle(RECORDED);
    const outcomes = await replayThread(bundleHistories(bundle), { workflowBundlePath: divergent });
    expect(outcomes.map((o) => [o.workflowType, o.ok, o.problem])).toEqual([
      ['SessionWorkflow', true, null],
      ['TurnWorkflow', false, 'nondeterminism'],
      ['TurnWorkflow', false, 'nondeterminism'],
    ]);
    for (const turn of outcomes.slice(1)) {
      expect(turn.message).toMatch(/Nondeterminism error: Activity type of scheduled event 'beginTurn' does not match activity type of activity command 'recoverTurnHead'/);
      const history = bundleHistories(bundle).workflows.find((w) => w.runId === turn.runId)!.history;
      const event = history.events!.find((e) => Number(e.eventId) === turn.eventId);
      expect(event?.activityTaskScheduledEventAttributes?.activityType?.name).toBe('beginTurn');
    }
  });

  test('the same histories replay cleanly against the real workflow code', async () => {
    const outcomes = await replayThread(bundleHistories(await readBundle(RECORDED)), { workflowBundlePath: testEnvironment().bundlePath });
    expect(outcomes.every((o) => o.ok)).toBe(true);
  });

  test('the CLI exits 1 and names the diverging workflow and event, without a server', async () => {
    const run = await runCli(['replay', RECORDED, '--workflow-bundle', divergent], offlineEnv(dir), dir);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('OK       SessionWorkflow corpus-multi-turn');
    expect(run.stdout).toMatch(/DIVERGED TurnWorkflow corpus-multi-turn\/turn-1 \(run [\w-]+\) at event 5/);
    expect(run.stdout).toContain("activity command 'recoverTurnHead'");
    expect(run.stdout).toContain('2 of 3 run(s) do not replay');
    expect(run.stderr).not.toContain('Nondeterminism');
  });

  test('the CLI exits 0 when every run replays', async () => {
    const run = await runCli(['replay', RECORDED, '--workflow-bundle', testEnvironment().bundlePath, '--json'], offlineEnv(dir), dir);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { outcomes: ReplayOutcome[] };
    expect(report.outcomes.map((o) => o.ok)).toEqual([true, true, true]);
  });
});
