/**
 * Targeted faults of the disks under a running turn, injected for real:
 *
 * - store damage: while the turn's command runs, the transcript node the next model
 *   request must read (the step's head, which no worker has read back yet) is
 *   overwritten with other bytes, or deleted. The turn must end `failed` with a message
 *   naming the object and the thread, without asking the model again, and the thread
 *   must live on.
 * - a full store: the tmpfs under the store is filled to the last byte while the model
 *   answers. The step must wait with "store write failed: no space left on device;
 *   retrying" visible in Temporal (the pending activity's last failure), not ask the
 *   model again, and the turn must complete once the space is freed.
 * - a full workspace: the workspace is a small tmpfs, and the patch does not fit (or the
 *   disk is full before it starts). The model must get one output naming the disk error,
 *   and nothing in the workspace may have changed.
 *
 * Mounting a tmpfs needs root (the suite and CI run as root).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeThread, startThread } from '../../src/client/threads';
import { StoreFailureType } from '../../src/shared/failure-types';
import { WRITE_FAILED } from '../../src/tools/apply-patch/apply';
import { checkPatchApplication } from '../../src/tools/apply-patch/check';
import { turnProgressQuery } from '../../src/workflows/definitions';
import { fillDisk, freeDisk, mountSmallDisk, unmountSmallDisk } from '../../test/support/small-disk';
import { hashTree, treeDifferences } from './integrity';
import { seedFiles } from './patch-kill';
import { chaosSettings } from './session';
import { callId } from './steps';
import type { PlannedStep } from './plan';
import { patchOutputs, scenarioPlan, withWorker, type Scenario, type ScenarioSpace, type TargetedContext } from './targeted';
import { watchTurn, type TurnWatch } from './watch';

const patch = (...body: string[]): string => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

/** Starts the scenario's one turn; returns the turn workflow id. */
async function startTurn(ctx: TargetedContext, space: ScenarioSpace, what: string, steps: readonly PlannedStep[], beforeAnswer?: Parameters<TargetedContext['model']['register']>[2]['beforeAnswer']): Promise<string> {
  const plan = scenarioPlan(space.id, what, steps);
  ctx.model.register(space.threadId, plan, { faults: false, beforeAnswer });
  const started = await startThread(ctx.client, {
    threadId: space.threadId,
    settings: chaosSettings(space.workspace, ctx.model.url, space.taskQueue),
    text: plan.turns[0].prompt,
    taskQueue: space.taskQueue,
  });
  return started.turnWorkflowId;
}

async function until(what: string, timeoutMs: number, predicate: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(100);
  }
}

/** The turn fields a scenario result keeps. */
const turnOf = ({ end, message, errorType, reasonsSeen }: TurnWatch) => ({ end, message, errorType, reasonsSeen });

// ---------------------------------------------------------------------------------------
// A corrupted or missing store object

/** A command that runs until the scenario creates `release` in the workspace (at most 60 s). */
const GATED_COMMAND = 'for i in $(seq 1 1200); do [ -e release ] && break; sleep 0.05; done; echo released';

/** The store damage scenario: the step's head node overwritten (`corrupt`) or deleted (`missing`). */
export function storeDamageScenario(damage: 'corrupt' | 'missing'): Scenario {
  return {
    kind: damage === 'corrupt' ? 'store-corrupt' : 'store-missing',
    name: `store-${damage} transcript node of the running step`,
    run: (ctx, space) => withWorker(space.spec(), () => storeDamage(ctx, space, damage)),
  };
}

async function storeDamage(ctx: TargetedContext, space: ScenarioSpace, damage: 'corrupt' | 'missing'): ReturnType<Scenario['run']> {
  const steps: PlannedStep[] = [{ calls: [{ tool: 'shell', body: GATED_COMMAND, argv: false }] }, { calls: [{ tool: 'update_plan', plan: [{ step: 'never reached', status: 'completed' }] }] }];
  const turnId = await startTurn(ctx, space, `run a command, then go on (the store is damaged meanwhile)`, steps);
  const ledger = space.spec().ledger;
  await until('the command to start', ctx.deadlineMs, async () => (await fs.readFile(ledger, 'utf8').catch(() => '')).trim() !== '');
  // The head while the command runs: the node holding the model's call, read back by
  // nothing yet (a worker caches what it read, not what it wrote).
  const progress = await ctx.client.workflow.getHandle(turnId).query(turnProgressQuery, { after: 0 });
  const head = progress.head;
  if (!head) throw new Error('the running turn has no head');
  const file = path.join(space.home, 'store', 'objects', head.slice(0, 2), head.slice(2));
  if (damage === 'missing') await fs.rm(file);
  else await fs.writeFile(file, '{"kind":"node","parent":null,"items":[]}');
  await fs.writeFile(path.join(space.workspace, 'release'), '');

  const watch = await watchTurn(ctx.client, turnId, { deadlineMs: ctx.deadlineMs });
  const problem = damage === 'corrupt' ? 'is corrupt' : 'is missing from the transcript store';
  const requests = ctx.model.requestsOf(space.threadId).length;
  const thread = await describeThread(ctx.client, space.threadId).catch((err: unknown) => err as Error);
  const problems: string[] = [];
  const add = (condition: boolean, text: string) => void (condition && problems.push(text));
  add(watch.end !== 'failed', `the turn ended ${watch.end}, not failed${watch.message ? `: ${watch.message}` : ''}`);
  add(watch.errorType !== StoreFailureType.ObjectUnreadable, `the turn's error is ${watch.errorType ?? 'none'}, not ${StoreFailureType.ObjectUnreadable}`);
  const named = `transcript node ${head} of thread ${space.threadId} ${problem}`;
  add(!watch.message?.includes(named), `the message does not say "${named}": ${watch.message ?? '(none)'}`);
  add(requests !== 1, `the model was asked ${requests} times (once expected: the damaged step never reaches it)`);
  if (thread instanceof Error) problems.push(`the thread cannot be described after the failure: ${thread.message}`);
  else add(thread.runningTurn !== null || thread.lastTurn?.status !== 'failed', `the thread does not show the failed turn as its last: ${JSON.stringify({ running: thread.runningTurn, last: thread.lastTurn?.status })}`);
  return { passed: problems.length === 0, turn: turnOf(watch), patch: null, note: `${damage === 'corrupt' ? 'overwrote' : 'deleted'} node ${head.slice(0, 12)}…; the user was told: ${watch.message ?? '(nothing)'}`, problems };
}

// ---------------------------------------------------------------------------------------
// A full disk under the store

const STORE_WAIT = /^runInference \(attempt (\d+)\): store write failed: no space left on device; retrying \(ENOSPC at .+\)$/;

/** The full-store scenario (see the module comment). */
export function storeFullDiskScenario(): Scenario {
  return { kind: 'store-full-disk', name: 'store-full-disk while the model answers', run: storeFullDisk };
}

async function storeFullDisk(ctx: TargetedContext, space: ScenarioSpace): ReturnType<Scenario['run']> {
  const storeDir = path.join(space.home, 'store');
  await mountSmallDisk(storeDir, '8m');
  try {
    return await withWorker(space.spec(), async () => {
      let filler: Promise<string> | undefined;
      const steps: PlannedStep[] = [
        { calls: [{ tool: 'shell', body: "printf 'kept\\n' > out.txt", argv: false }] },
        { calls: [{ tool: 'apply_patch', patch: patch('*** Add File: notes.txt', '+written after the disk was freed') }] },
      ];
      // The disk fills while the model's second answer is on its way: storing it fails.
      const turnId = await startTurn(ctx, space, 'write two files (the store fills meanwhile)', steps, (position) =>
        position.step === 1 ? (filler ??= fillDisk(storeDir)).then(() => undefined) : Promise.resolve(),
      );
      let reason: string | undefined;
      await until('the step to wait for the store with a reason', ctx.deadlineMs, async () => {
        const description = await ctx.client.workflow.getHandle(turnId).describe();
        for (const activity of description.raw.pendingActivities ?? []) {
          const seen = `${activity.activityType?.name ?? ''} (attempt ${activity.attempt ?? 1}): ${activity.lastFailure?.message ?? ''}`;
          const m = STORE_WAIT.exec(seen);
          if (m && Number(m[1]) >= 3) reason = seen;
        }
        return reason !== undefined;
      });
      const requestsWhileFull = ctx.model.requestsOf(space.threadId).length;
      const tempsWhileFull = await storeTemporaries(storeDir);
      await freeDisk(await filler!);

      const watch = await watchTurn(ctx.client, turnId, { deadlineMs: ctx.deadlineMs });
      const requests = ctx.model.requestsOf(space.threadId).length;
      const problems: string[] = [];
      const add = (condition: boolean, text: string) => void (condition && problems.push(text));
      add(watch.end !== 'completed', `the turn ended ${watch.end}${watch.message ? `: ${watch.message}` : ''} after the space was freed`);
      add(requestsWhileFull !== 2, `the model was asked ${requestsWhileFull} times while the store was full (2 expected: the answer already received is not asked for again)`);
      add(requests !== 3, `the model was asked ${requests} times in all (3 expected)`);
      const temps = await storeTemporaries(storeDir);
      add(temps.length > 0, `store temporaries left: ${temps.join(', ')}`);
      add(tempsWhileFull.length > 0, `store temporaries while it waited: ${tempsWhileFull.join(', ')}`);
      const written = await fs.readFile(path.join(space.workspace, 'notes.txt'), 'utf8').catch(() => '(missing)');
      add(written !== 'written after the disk was freed\n', `notes.txt after the turn: ${JSON.stringify(written)}`);
      return { passed: problems.length === 0, turn: turnOf(watch), patch: null, note: `while full, Temporal showed: ${reason}`, problems };
    });
  } finally {
    await unmountSmallDisk(storeDir);
  }
}

/** Temporaries of interrupted store writes (`.tmp-*`) anywhere under the store. */
async function storeTemporaries(storeDir: string): Promise<string[]> {
  const entries = await fs.readdir(storeDir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => path.basename(e).startsWith('.tmp-'));
}

// ---------------------------------------------------------------------------------------
// A full disk under the workspace

const bigLines = (n: number, tag: string): string[] => Array.from({ length: n }, (_, i) => `+${tag} ${i} ${'z'.repeat(50)}`);

/** The full-workspace scenario: a patch larger than the free space, or any patch on a disk already full. */
export function workspaceFullDiskScenario(variant: 'overflowing patch' | 'disk already full'): Scenario {
  return { kind: 'workspace-full-disk', name: `workspace-full-disk ${variant}`, run: (ctx, space) => workspaceFullDisk(ctx, space, variant) };
}

async function workspaceFullDisk(ctx: TargetedContext, space: ScenarioSpace, variant: 'overflowing patch' | 'disk already full'): ReturnType<Scenario['run']> {
  const before = path.join(space.dir, 'before');
  await mountSmallDisk(space.workspace, '64k');
  try {
    await seedFiles(space.workspace, { 'notes.txt': 'notes\n', 'old.txt': 'old\n' });
    const text =
      variant === 'overflowing patch'
        ? patch('*** Update File: notes.txt', '@@', '+appended', '*** Delete File: old.txt', '*** Add File: out/deep/big.txt', ...bigLines(3000, 'big'))
        : patch('*** Update File: notes.txt', '@@', '+appended', '*** Add File: small.txt', '+small');
    if (variant === 'disk already full') await fillDisk(space.workspace);
    await fs.cp(space.workspace, before, { recursive: true });
    const beforeTree = await hashTree(before);

    return await withWorker(space.spec(), async () => {
      const turnId = await startTurn(ctx, space, `apply a patch on a full disk (${variant})`, [{ calls: [{ tool: 'apply_patch', patch: text }] }]);
      const watch = await watchTurn(ctx.client, turnId, { deadlineMs: ctx.deadlineMs });
      const check = await checkPatchApplication(text, before, space.workspace);
      const reportsDisk = (output: string) => output.startsWith(`${WRITE_FAILED}no space left on device (ENOSPC)`) && output.includes('No file was changed');
      const { texts, ...seen } = await patchOutputs(ctx, space, watch.result?.head ?? null, callId(space.id, 1, 0, 0, 0), reportsDisk);
      const differences = treeDifferences(beforeTree, await hashTree(space.workspace));
      const problems: string[] = [];
      const add = (condition: boolean, what: string) => void (condition && problems.push(what));
      add(watch.end !== 'completed', `the turn ended ${watch.end}${watch.message ? `: ${watch.message}` : ''}`);
      add(check.verdict !== 'not-applied', `the refused patch ended ${check.verdict} (${JSON.stringify(check.paths)})`);
      add(check.leftovers.length > 0, `apply_patch temporaries left: ${check.leftovers.join(', ')}`);
      add(differences.length > 0, `the workspace changed: ${differences.join(', ')}`);
      add(texts.length !== 1 || !reportsDisk(texts[0]), `the call's outputs do not report the full disk once: ${JSON.stringify(texts.map((t) => t.slice(0, 160)))}`);
      add(seen.requestsWithOutput === 0 || seen.requestsWithExpectedOutput !== seen.requestsWithOutput, `the model got the disk error ${seen.requestsWithExpectedOutput} of ${seen.requestsWithOutput} times as the call's one output`);
      return {
        passed: problems.length === 0,
        turn: turnOf(watch),
        patch: { atKill: null, verdict: check.verdict, leftovers: check.leftovers, ...seen },
        note: `the model was told: ${texts[0]?.split('. ')[0] ?? '(nothing)'}`,
        problems,
      };
    });
  } finally {
    await unmountSmallDisk(space.workspace);
  }
}
