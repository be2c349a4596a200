/**
 * Targeted fault scenarios: faults placed exactly where a promise could break, rather
 * than at random points. Each scenario is one thread on its own task queue, home (store)
 * and workspace, driven through one turn by the run's scripted model while the fault is
 * injected for real: a worker process SIGKILLed at a named step of a multi-file
 * apply_patch (./patch-kill.ts), a store object overwritten or deleted under a running
 * turn, a full tmpfs under the store or the workspace (./disk-faults.ts), the loss of a
 * thread's pinned host (./host-loss.ts: two hosts of its own). Every
 * scenario's turn is watched: it must end, or wait with a reason Temporal shows, never
 * sit stuck without a message to the user (./watch.ts).
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { isToolOutput, type ConversationItem } from '../../src/items/schemas';
import { FsStoreBackend, TranscriptStore } from '../../src/store';
import { startWorker, type ChaosDevServer, type WorkerChild, type WorkerSpec } from './cluster';
import { readCallResults } from './executions';
import type { HostLossFacts } from './host-loss';
import type { ChaosModel } from './model';
import type { PatchApplication } from '../../src/tools/apply-patch/check';
import type { PlannedStep, SessionPlan } from './plan';
import type { TurnWatch } from './watch';

/** The kinds of targeted scenario, in report order. */
export const TARGETED_KINDS = ['patch-kill', 'store-corrupt', 'store-missing', 'store-full-disk', 'workspace-full-disk', 'host-loss'] as const;
/** One kind of targeted scenario. */
export type TargetedKind = (typeof TARGETED_KINDS)[number];

/** What each kind does, for the report. */
export const TARGETED_LABELS: Record<TargetedKind, string> = {
  'patch-kill': 'worker SIGKILLed at a named step of a multi-file apply_patch; a new worker retries it',
  'store-corrupt': 'a store object of the running turn overwritten with other bytes',
  'store-missing': 'a store object of the running turn deleted',
  'store-full-disk': 'the tmpfs under the store filled while the model answers, freed later',
  'workspace-full-disk': 'a patch larger than the free space of the tmpfs workspace',
  'host-loss': "the pinned host's worker SIGKILLed mid-command, its workspace and home deleted; another host takes the thread over after failoverAfter",
};

/** Which scenarios a run plays: all of them, the cheap ones of the short test, or none. */
export type TargetedSet = 'all' | 'short' | 'none';

/** What the patch of a scenario did, checked with `checkPatchApplication`. */
export interface PatchFacts {
  /** The verdict right after the kill (before the retry), when there was a kill. */
  readonly atKill: PatchApplication | null;
  readonly verdict: PatchApplication;
  readonly leftovers: readonly string[];
  /** Outputs of the call in the final transcript. */
  readonly outputs: number;
  /** Of those, outputs that start with `Success.` */
  readonly successOutputs: number;
  /** Requests to the model that carried an output of the call, and how many carried exactly the expected one. */
  readonly requestsWithOutput: number;
  readonly requestsWithExpectedOutput: number;
  /** `metadata.resumed` of the recorded result: a retry finished the patch. */
  readonly resumed: boolean;
}

/** One scenario's outcome. */
export interface ScenarioResult {
  /** e.g. `patch-kill append @ first committed`. */
  readonly name: string;
  readonly kind: TargetedKind;
  readonly passed: boolean;
  /** How the turn ended, as the watchdog saw it (null when the scenario did not get as far as a turn). */
  readonly turn: Pick<TurnWatch, 'end' | 'message' | 'errorType' | 'reasonsSeen'> | null;
  readonly patch: PatchFacts | null;
  /** The figures of a host-loss scenario (./host-loss.ts); absent for the other kinds. */
  readonly hostLoss?: HostLossFacts | null;
  /** What a reader should know: the step killed at, the message, the reason seen. */
  readonly note: string;
  /** Why it did not pass (empty when it passed). */
  readonly problems: readonly string[];
  readonly seconds: number;
}

/** What every scenario needs from the run. */
export interface TargetedContext {
  readonly dir: string;
  readonly client: Client;
  readonly server: ChaosDevServer;
  readonly model: ChaosModel;
  readonly runMarker: string;
  /** How long a scenario's turn may take before it counts as not finished. */
  readonly deadlineMs: number;
  readonly log: (line: string) => void;
}

/** One scenario's own place: directories, task queue, thread. */
export interface ScenarioSpace {
  readonly id: string;
  readonly dir: string;
  readonly home: string;
  readonly workspace: string;
  readonly taskQueue: string;
  readonly threadId: string;
  /** The worker spec for this scenario (plus `extra`: a script or env). */
  spec(extra?: Pick<WorkerSpec, 'script' | 'env'>): WorkerSpec;
}

/** A scenario to play: its kind, name and body. */
export interface Scenario {
  readonly kind: TargetedKind;
  readonly name: string;
  run(ctx: TargetedContext, space: ScenarioSpace): Promise<Omit<ScenarioResult, 'name' | 'kind' | 'seconds'>>;
}

/** Creates the directories of scenario `id` (a short name, e.g. `x03`). */
export async function scenarioSpace(ctx: TargetedContext, id: string): Promise<ScenarioSpace> {
  const dir = path.join(ctx.dir, id);
  const home = path.join(dir, 'home');
  const workspace = path.join(dir, 'ws');
  await mkdir(home, { recursive: true });
  await mkdir(workspace, { recursive: true });
  await mkdir(path.join(ctx.dir, 'logs'), { recursive: true });
  const taskQueue = `${ctx.runMarker}-targeted-${id}`;
  return {
    id,
    dir,
    home,
    workspace,
    taskQueue,
    threadId: `${ctx.runMarker}-targeted-${id}`,
    spec: (extra) => ({
      home,
      taskQueue,
      address: ctx.server.address,
      ledger: path.join(dir, 'ledger.log'),
      runMarker: ctx.runMarker,
      logFile: path.join(ctx.dir, 'logs', `${id}${extra?.script ? '-pausing' : ''}.log`),
      ...extra,
    }),
  };
}

/** A one-turn script: `steps`, then a closing message. Call ids carry `id` as the session name. */
export function scenarioPlan(id: string, what: string, steps: readonly PlannedStep[]): SessionPlan {
  return {
    index: 0,
    name: id,
    turns: [{ prompt: `chaos turn 1 of session ${id}: ${what}`, steps, finalMessage: `Turn 1 of ${id} is done.` }],
    providerFaults: new Map(),
    kills: [],
    toolFaults: [],
  };
}

/** Runs `body` with a worker for `spec`, stopped afterwards whatever happens. */
export async function withWorker<T>(spec: WorkerSpec, body: (worker: WorkerChild) => Promise<T>): Promise<T> {
  const worker = await startWorker(spec);
  try {
    return await body(worker);
  } finally {
    await worker.stop();
  }
}

/** The final transcript of a scenario, read through a fresh store (no cache). */
export async function finalTranscript(home: string, head: string | null): Promise<ConversationItem[]> {
  const store = new TranscriptStore(new FsStoreBackend(path.join(home, 'store')));
  return (await store.loadTranscript(head)).map((s) => s.item);
}

/**
 * The patch facts the model side can tell: outputs of `callId` in the final transcript
 * and in the model's requests (`expected`: the one output each request must carry, or a
 * test of it), and whether the recorded result says a retry resumed it.
 */
export async function patchOutputs(
  ctx: TargetedContext,
  space: ScenarioSpace,
  head: string | null,
  callId: string,
  expected: string | ((output: string) => boolean),
): Promise<Pick<PatchFacts, 'outputs' | 'successOutputs' | 'requestsWithOutput' | 'requestsWithExpectedOutput' | 'resumed'> & { texts: string[] }> {
  const items = await finalTranscript(space.home, head).catch(() => []);
  const texts = items.filter(isToolOutput).filter((i) => i.call_id === callId).map((i) => String(i.output));
  let requestsWithOutput = 0;
  let requestsWithExpectedOutput = 0;
  for (const request of ctx.model.requestsOf(space.threadId)) {
    const outputs = request.input.filter((i) => i.type === 'function_call_output' && i.call_id === callId);
    if (outputs.length === 0) continue;
    requestsWithOutput += 1;
    const matches = typeof expected === 'string' ? (output: string) => output === expected : expected;
    if (outputs.length === 1 && matches(String(outputs[0].output))) requestsWithExpectedOutput += 1;
  }
  const recorded = (await readCallResults(path.join(space.home, 'store'))).get(callId);
  return {
    texts,
    outputs: texts.length,
    successOutputs: texts.filter((t) => t.startsWith('Success.')).length,
    requestsWithOutput,
    requestsWithExpectedOutput,
    resumed: recorded?.metadata.resumed === true,
  };
}

/** Plays `scenarios`, at most `concurrency` at a time; a scenario that throws is a failed one. */
export async function runTargeted(ctx: TargetedContext, scenarios: readonly Scenario[], concurrency: number): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = new Array<ScenarioResult>(scenarios.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, scenarios.length)) }, async () => {
    while (next < scenarios.length) {
      const i = next++;
      const scenario = scenarios[i];
      const begun = Date.now();
      let body: Omit<ScenarioResult, 'name' | 'kind' | 'seconds'>;
      try {
        body = await scenario.run(ctx, await scenarioSpace(ctx, `x${String(i).padStart(2, '0')}`));
      } catch (err) {
        const problem = `the scenario broke off: ${err instanceof Error ? err.message : String(err)}`;
        body = { passed: false, turn: null, patch: null, note: problem, problems: [problem] };
      }
      const seconds = Math.round((Date.now() - begun) / 100) / 10;
      results[i] = { name: scenario.name, kind: scenario.kind, seconds, ...body };
      ctx.log(`targeted ${scenario.name}: ${body.passed ? 'passed' : `FAILED (${body.problems.join('; ')})`} in ${seconds} s`);
    }
  });
  await Promise.all(lanes);
  return results;
}
