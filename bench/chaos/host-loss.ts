/**
 * The host-loss scenario (host failover, src/workflows/workspace.ts): hosts A and B, two
 * `unroll worker --host-id` processes with their own Unroll homes sharing one file store
 * and one task queue. A thread pinned to A with a short `failoverAfter` writes a file, adds
 * one by patch, then runs a long command; while it runs, A's worker is SIGKILLed and A's
 * workspace and home are deleted. B must find A gone, adopt the thread (restoring its
 * latest checkpoint at the same path), the killed command must be reported to the model
 * as interrupted (the scripted model re-issues it), and the turn must finish on B with a
 * workspace identical to a fault-free run of the same script. Figures for the report:
 * time from the kill to the move, the wait on the lost host, the restore, steps repeated.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startThread } from '../../src/client/threads';
import { buildThreadRun } from '../../src/history/build-run';
import type { HostMoveView } from '../../src/history/host-moves';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { isToolOutput, toolOutputText } from '../../src/items/schemas';
import { hostPin } from '../../src/shared/hosts';
import { FsStoreBackend, TranscriptStore } from '../../src/store';
import { startWorker, type WorkerChild } from './cluster';
import { hashTree, treeDifferences } from './integrity';
import { needsReissue } from './model';
import type { PlannedStep } from './plan';
import { chaosSettings } from './session';
import { scenarioPlan, type Scenario, type ScenarioSpace, type TargetedContext } from './targeted';
import { watchTurn, type TurnWatch } from './watch';

/** The failover delay of the scenario's threads (seconds): short, so the run stays short. */
export const HOST_LOSS_FAILOVER_AFTER = 3;

/** The figures of a host loss, for the report. */
export interface HostLossFacts {
  /** The thread's failover delay (seconds). */
  readonly failoverAfterS: number;
  /** From the SIGKILL of A's worker to the end of B's adoption (restore included). */
  readonly timeToMoveMs: number | null;
  /** How long the activity waited on the lost host before it was judged lost (see HostMoveView.lostAfterMs). */
  readonly waitedOnLostHostMs: number | null;
  /** The adoption on B: choosing the path and restoring the checkpoint. */
  readonly restoreMs: number | null;
  /** Liveness checks made before the move. */
  readonly livenessChecks: number;
  /** The checkpoint restored (`step 1.2`), or null. */
  readonly restoredFrom: string | null;
  /** Tool calls reported to the model as interrupted and re-issued by it: the steps repeated. */
  readonly stepsRepeated: number;
  readonly moves: number;
  readonly workspaceIdentical: boolean;
}

/** The scenario of `npm run chaos` (and of the short chaos test). */
export function hostLossScenario(): Scenario {
  return { kind: 'host-loss', name: 'host-loss of the pinned host mid-command (worker SIGKILLed, workspace and home deleted)', run: hostLoss };
}

/** The script: a file by command, a file by patch (each checkpointed), then a long command that writes a third. */
function script(release: string): PlannedStep[] {
  const patch = ['*** Begin Patch', '*** Add File: src/b.txt', '+by patch', '*** End Patch'].join('\n');
  return [
    { calls: [{ tool: 'shell', body: "mkdir -p src && printf 'by command\\n' > src/a.txt", argv: false }] },
    { calls: [{ tool: 'apply_patch', patch }] },
    { calls: [{ tool: 'shell', body: `for i in $(seq 1 1200); do [ -e '${release}' ] && break; sleep 0.05; done; mkdir -p src/deep && printf 'after the wait\\n' > src/deep/c.txt`, argv: false }] },
    { calls: [{ tool: 'shell', body: "printf 'last\\n' > src/d.txt", argv: false }] },
  ];
}

async function hostLoss(ctx: TargetedContext, space: ScenarioSpace): ReturnType<Scenario['run']> {
  const storeDir = path.join(space.dir, 'shared-store');
  const release = path.join(space.dir, 'release');
  const homes = { A: path.join(space.dir, 'home-A'), B: path.join(space.dir, 'home-B') };
  const lost = path.join(space.dir, 'host-A', 'ws');
  const reference = path.join(space.dir, 'host-B', 'reference');
  for (const dir of [...Object.values(homes), lost, reference]) await fs.mkdir(dir, { recursive: true });
  const workers: WorkerChild[] = [];
  const host = async (id: 'A' | 'B') => {
    const spec = space.spec();
    // B judges A within 2 s of A's last poll: it only ever judges A after A was killed.
    const worker = await startWorker({ ...spec, home: homes[id], hostId: id, store: `file:${storeDir}`, logFile: spec.logFile.replace(/\.log$/, `-${id}.log`), env: { UNROLL_HOST_LIVENESS_WINDOW: '2' } });
    workers.push(worker);
    return worker;
  };
  const start = async (name: string, cwd: string, pinnedTo: 'A' | 'B') => {
    const plan = scenarioPlan(name, 'write three files (the host is lost meanwhile)', script(release));
    const threadId = `${space.threadId}-${name}`;
    ctx.model.register(threadId, plan, { faults: false });
    const pin = hostPin(space.taskQueue, pinnedTo);
    const settings = { ...chaosSettings(cwd, ctx.model.url, space.taskQueue), host: pin, toolTaskQueue: pin.taskQueue, failoverAfter: HOST_LOSS_FAILOVER_AFTER };
    const started = await startThread(ctx.client, { threadId, settings, text: plan.turns[0].prompt, taskQueue: space.taskQueue });
    return { threadId, turnId: started.turnWorkflowId };
  };
  try {
    const hostA = await host('A');
    await host('B');
    const thread = await start(space.id, lost, 'A');
    const tag = `${space.id} t1 k2 c0 r0`;
    await until('the long command to start on A', ctx.deadlineMs, async () => (await fs.readFile(space.spec().ledger, 'utf8').catch(() => '')).includes(tag));
    const killedAt = Date.now();
    await hostA.kill();
    await fs.rm(lost, { recursive: true, force: true });
    await fs.rm(homes.A, { recursive: true, force: true });
    await fs.writeFile(release, '');
    const watch = await watchTurn(ctx.client, thread.turnId, { deadlineMs: ctx.deadlineMs });

    // The fault-free run of the same script, on B (another session name: other call ids).
    const clean = await start(space.id.replace(/^x/, 'y'), reference, 'B');
    const cleanWatch = await watchTurn(ctx.client, clean.turnId, { deadlineMs: ctx.deadlineMs });

    const store = new TranscriptStore(new FsStoreBackend(storeDir));
    const run = await buildThreadRun(await fetchThreadHistories(ctx.client, thread.threadId), store);
    const moves: HostMoveView[] = run.turns.flatMap((t) => [...t.hostMoves]);
    const outputs = (await store.loadTranscript(watch.result?.head ?? null)).map((s) => s.item).filter(isToolOutput).map((i) => toolOutputText(i.output));
    const differences = treeDifferences(await hashTree(reference), await hashTree(lost));
    const move = moves[0];
    const facts: HostLossFacts = {
      failoverAfterS: HOST_LOSS_FAILOVER_AFTER,
      timeToMoveMs: move?.movedAt ? Date.parse(move.movedAt) - killedAt : null,
      waitedOnLostHostMs: move?.lostAfterMs ?? null,
      restoreMs: move?.adoptionMs ?? null,
      livenessChecks: move?.livenessChecks ?? 0,
      restoredFrom: move?.move?.restoredFrom ? `step ${move.move.restoredFrom.turn}.${move.move.restoredFrom.step}` : null,
      stepsRepeated: outputs.filter(needsReissue).length,
      moves: moves.length,
      workspaceIdentical: differences.length === 0,
    };

    const problems: string[] = [];
    const add = (condition: boolean, text: string) => void (condition && problems.push(text));
    add(watch.end !== 'completed', `the turn ended ${watch.end}${watch.message ? `: ${watch.message}` : ''}`);
    add(cleanWatch.end !== 'completed', `the fault-free run ended ${cleanWatch.end}${cleanWatch.message ? `: ${cleanWatch.message}` : ''}`);
    add(moves.length !== 1, `${moves.length} host moves recorded (1 expected)`);
    add(move !== undefined && (move.status !== 'moved' || move.from !== 'A' || move.move?.to.id !== 'B'), `the move is not A → B: ${JSON.stringify(move)}`);
    add(move?.move !== null && move?.move !== undefined && move.move.cwd !== lost, `the workspace moved to ${move?.move?.cwd ?? '?'}, not its own path ${lost}`);
    add(facts.restoredFrom !== 'step 1.2', `the workspace was restored from ${facts.restoredFrom ?? 'nothing'} (step 1.2 expected): ${move?.move?.notRestored ?? ''}`);
    add(facts.stepsRepeated !== 1, `${facts.stepsRepeated} calls reported as interrupted (1 expected: the command that ran on A)`);
    add(differences.length > 0, `the final workspace differs from the fault-free run: ${differences.join(', ')}`);
    add(watch.result?.relocation?.host.id !== 'B', `the turn does not report its relocation to B`);
    const note = move?.move
      ? `A killed mid-command; moved to B ${seconds(facts.timeToMoveMs)} after the kill (waited ${seconds(facts.waitedOnLostHostMs)} on A, ${facts.livenessChecks} liveness check(s), restore ${seconds(facts.restoreMs)} from ${facts.restoredFrom ?? 'nothing'}); ${facts.stepsRepeated} step(s) repeated`
      : `no move recorded; the turn ended ${watch.end}`;
    return { passed: problems.length === 0, turn: turnOf(watch), patch: null, hostLoss: facts, note, problems };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

const seconds = (ms: number | null): string => (ms === null ? '?' : `${(ms / 1000).toFixed(1)} s`);
const turnOf = ({ end, message, errorType, reasonsSeen }: TurnWatch) => ({ end, message, errorType, reasonsSeen });

async function until(what: string, timeoutMs: number, predicate: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(100);
  }
}
