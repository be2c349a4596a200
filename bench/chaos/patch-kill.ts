/**
 * The apply_patch crash scenario: the thread's first worker is the pausing worker
 * (test/support/pausing-worker.ts, a real `unroll` worker process that stops dead when
 * the tool reaches a named step), so the SIGKILL lands exactly between two files of a
 * multi-file patch, or after the last one before the result is recorded. A plain
 * `unroll worker` then takes over and Temporal retries the activity.
 *
 * Checked with `checkPatchApplication` against a copy of the workspace from before: the
 * patch must end applied exactly once (never twice, never half), with no temporaries
 * left, and the model must get exactly one output for the call, the `Success.` text an
 * uninterrupted run gives; the recorded result must say a retry resumed it.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startThread } from '../../src/client/threads';
import { applyPatch } from '../../src/tools/apply-patch/apply';
import { checkPatchApplication, type PatchApplication } from '../../src/tools/apply-patch/check';
import { PAUSING_WORKER } from '../../test/support/pausing-worker';
import { startWorker } from './cluster';
import { killStep, type KillPointName, type PatchShape } from './patch-shapes';
import { chaosSettings } from './session';
import { callId } from './steps';
import { patchOutputs, scenarioPlan, withWorker, type PatchFacts, type Scenario, type ScenarioSpace, type TargetedContext } from './targeted';
import { watchTurn } from './watch';

/** Writes `files` under `dir`. */
export async function seedFiles(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), text);
  }
}

/** What the verdict right after the kill must be: the kill really landed where it was aimed. */
const VERDICT_AT_KILL: Record<KillPointName, PatchApplication> = {
  'first staged': 'not-applied',
  'first committed': 'partial',
  'last committed': 'once',
};

/** The scenario for `shape`, killed at `point`. */
export function patchKillScenario(shape: PatchShape, point: KillPointName): Scenario {
  return {
    kind: 'patch-kill',
    name: `patch-kill ${shape.name} @ ${point}`,
    run: (ctx, space) => run(ctx, space, shape, point),
  };
}

async function run(ctx: TargetedContext, space: ScenarioSpace, shape: PatchShape, point: KillPointName): ReturnType<Scenario['run']> {
  const before = path.join(space.dir, 'before');
  const reference = path.join(space.dir, 'reference');
  for (const dir of [space.workspace, before, reference]) await seedFiles(dir, shape.files);
  // An uninterrupted application: the steps to aim at, and the output the model must get.
  const steps: string[] = [];
  const clean = await applyPatch(shape.patch, reference, { onStep: (step) => Promise.resolve(void steps.push(step)) });
  if (!clean.ok) throw new Error(`the ${shape.name} patch does not apply to its own files: ${clean.error}`);
  const expected = ['Success. Updated the following files:', ...clean.changes.map((c) => `${c.kind} ${c.path}`)].join('\n');
  const pauseAt = killStep(steps, point);
  if (!pauseAt) throw new Error(`the ${shape.name} patch has no "${point}" step (steps: ${steps.join(', ')})`);

  const plan = scenarioPlan(space.id, `apply the ${shape.name} patch`, [{ calls: [{ tool: 'apply_patch', patch: shape.patch }] }]);
  const patchCall = callId(space.id, 1, 0, 0, 0);
  ctx.model.register(space.threadId, plan, { faults: false });
  const pausedFile = path.join(space.dir, 'paused');
  const pausing = await startWorker(space.spec({ script: PAUSING_WORKER, env: { UNROLL_TEST_PAUSE_AT: pauseAt, UNROLL_TEST_PAUSED_FILE: pausedFile } }));
  let atKill: PatchApplication | null = null;
  let started: { turnWorkflowId: string };
  try {
    started = await startThread(ctx.client, {
      threadId: space.threadId,
      settings: chaosSettings(space.workspace, ctx.model.url, space.taskQueue),
      text: plan.turns[0].prompt,
      taskQueue: space.taskQueue,
    });
    if (!(await waitForFile(pausedFile, ctx.deadlineMs))) throw new Error(`the patch never reached ${pauseAt}`);
    await pausing.kill();
    atKill = (await checkPatchApplication(shape.patch, before, space.workspace)).verdict;
  } finally {
    await pausing.kill();
  }

  return withWorker(space.spec(), async () => {
    const watch = await watchTurn(ctx.client, started.turnWorkflowId, { deadlineMs: ctx.deadlineMs });
    const check = await checkPatchApplication(shape.patch, before, space.workspace);
    const { texts, ...seen } = await patchOutputs(ctx, space, watch.result?.head ?? null, patchCall, expected);
    const patch: PatchFacts = { atKill, verdict: check.verdict, leftovers: check.leftovers, ...seen };
    const problems: string[] = [];
    const add = (condition: boolean, text: string) => void (condition && problems.push(text));
    add(atKill !== VERDICT_AT_KILL[point], `the kill at ${pauseAt} left the patch ${atKill ?? 'unchecked'}, not ${VERDICT_AT_KILL[point]}: it did not land where it was aimed`);
    add(watch.end !== 'completed', `the turn ended ${watch.end}${watch.message ? `: ${watch.message}` : ''}`);
    add(check.verdict !== 'once', `the patch ended ${check.verdict} (${JSON.stringify(check.paths)})`);
    add(check.leftovers.length > 0, `apply_patch temporaries left: ${check.leftovers.join(', ')}`);
    add(texts.length !== 1 || texts[0] !== expected, `the transcript has ${texts.length} outputs for the call: ${JSON.stringify(texts.map((t) => t.slice(0, 120)))}`);
    add(seen.requestsWithOutput === 0 || seen.requestsWithExpectedOutput !== seen.requestsWithOutput, `the model got the call's output ${seen.requestsWithExpectedOutput} of ${seen.requestsWithOutput} times as one "Success." output`);
    add(!seen.resumed, 'the recorded result does not say a retry resumed the patch (metadata.resumed)');
    return {
      passed: problems.length === 0,
      turn: watch,
      patch,
      note: `killed at ${pauseAt} (patch ${atKill} then); retry: ${check.verdict}${seen.resumed ? ', resumed' : ''}`,
      problems,
    };
  });
}

async function waitForFile(file: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}
