/**
 * Benchmark 1: orchestration overhead per agent step. A 100-step turn (one inference
 * plus one real shell command per step, `cat chunk.txt`: a bash process and 2.4 KB of
 * output) against a zero-latency scripted model, run three ways, interleaved:
 *   - unroll:   the real SessionWorkflow/TurnWorkflow on the local dev server (with
 *               Unroll's dynamic config, src/temporal/dynamic-config.ts);
 *   - baseline: the same activity functions called in a plain loop in one process;
 *   - floor:    a no-op workflow that runs two empty activities per step (the engine's
 *               own cost, nothing of Unroll in it).
 * Overhead = unroll − baseline, compared with the floor. Also counts the transcript
 * store's fsyncs per step (./fsync-counter.ts). Reported as a median over repeated runs.
 *
 *   node dist/bench/overhead.js [steps] [repeats]     # default 100 steps, 5 runs
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createActivities } from '../src/activities';
import { EncryptedStoreBackend } from '../src/codec/encrypted-backend';
import { NO_CONTEXT } from '../src/shared/context-state';
import { followTurn, startThread } from '../src/client/threads';
import { FsStoreBackend, TranscriptStore } from '../src/store';
import { DEFAULT_SHELL_ENVIRONMENT_POLICY, toolEnvironment } from '../src/tools/environment';
import { assistantMessage, respond, shellCall } from '../test/support/responses-builders';
import { startBenchEnv, type BenchEnv } from './bench-env';
import { runFloor, startFloorWorker, type FloorWorker } from './floor/floor-worker';
import { FsyncCountingBackend } from './fsync-counter';
import { figure, sectionMarkdown, type BenchSection } from './report';

const COMMAND = ['cat', 'chunk.txt'];

/** Scripts the model: `steps - 1` shell steps per thread, then a final message. */
function scriptModel(env: BenchEnv, steps: number): void {
  const served = new Map<string, number>();
  env.model.setHandler((request) => {
    const key = request.threadKey ?? '';
    const n = (served.get(key) ?? 0) + 1;
    served.set(key, n);
    return n < steps ? respond(shellCall(COMMAND)) : respond(assistantMessage('done'));
  });
}

/** A file store whose fsyncs are counted. */
function countedStore(dir: string): { store: TranscriptStore; counter: FsyncCountingBackend } {
  const counter = new FsyncCountingBackend(new FsStoreBackend(dir));
  return { store: new TranscriptStore(new EncryptedStoreBackend(counter, null)), counter };
}

interface Run {
  readonly msPerStep: number;
  readonly fsyncsPerStep: number;
}

async function unrollRun(env: BenchEnv, counter: FsyncCountingBackend, steps: number): Promise<Run> {
  const threadId = `overhead-${randomUUID()}`;
  const fsyncsBefore = counter.fsyncs;
  const started = performance.now();
  const turn = await startThread(env.client, { threadId, settings: env.settings(), text: 'read chunk.txt repeatedly', taskQueue: env.taskQueue });
  const result = await followTurn(env.client, turn.turnWorkflowId, () => undefined, { pollMs: 1_000 });
  if (result.status !== 'completed' || result.steps !== steps) throw new Error(`unroll run ended ${result.status} after ${result.steps} steps`);
  return { msPerStep: (performance.now() - started) / steps, fsyncsPerStep: (counter.fsyncs - fsyncsBefore) / steps };
}

async function baselineRun(env: BenchEnv, steps: number): Promise<Run> {
  const { store, counter } = countedStore(path.join(env.workspace, `.baseline-${randomUUID()}`));
  const activities = createActivities({
    store,
    apiKey: () => 'bench-key',
    host: { shell: 'bash', timezone: 'UTC', now: () => new Date('2026-11-21T00:00:00Z') },
    toolEnvironment: toolEnvironment(process.env, DEFAULT_SHELL_ENVIRONMENT_POLICY),
  });
  const threadId = `baseline-${randomUUID()}`;
  const settings = env.settings();
  const started = performance.now();
  const begun = await activities.beginTurn({ threadId, turn: 1, head: null, settings, userText: 'read chunk.txt repeatedly', context: NO_CONTEXT });
  let head = begun.head;
  let append: string[] = [];
  for (let step = 1; ; step++) {
    const response = await activities.runInference({ threadId, turn: 1, step, head, append, settings });
    head = response.head;
    if (response.calls.length === 0) {
      if (step !== steps) throw new Error(`baseline ended after ${step} steps`);
      break;
    }
    append = [];
    for (const call of response.calls) {
      const out = await activities.runTool({ threadId, turn: 1, step, call, cwd: settings.cwd, shellTimeoutMs: settings.shellTimeoutMs, sandbox: null });
      append.push(out.outputHash);
    }
  }
  return { msPerStep: (performance.now() - started) / steps, fsyncsPerStep: counter.fsyncs / steps };
}

async function floorRun(env: BenchEnv, worker: FloorWorker, steps: number): Promise<number> {
  return (await runFloor(env.client, worker, steps)) / steps;
}

/** The floor with one empty activity per step, ms per step. */
async function floorRunOne(env: BenchEnv, worker: FloorWorker, steps: number): Promise<number> {
  return (await runFloor(env.client, worker, steps, 1, 1)) / steps;
}

/** Runs benchmark 1 and returns its section. */
export async function runOverheadBench(options: { steps?: number; repeats?: number } = {}): Promise<BenchSection> {
  const steps = options.steps ?? 100;
  const repeats = options.repeats ?? 5;
  const storeDir = await mkdtemp(path.join(os.tmpdir(), 'unroll-bench-store-'));
  const { store, counter } = countedStore(storeDir);
  const env = await startBenchEnv({ store });
  const floor = await startFloorWorker(env.nativeConnection);
  try {
    await writeFile(path.join(env.workspace, 'chunk.txt'), `${'lorem ipsum dolor sit amet '.repeat(90)}\n`);
    scriptModel(env, steps);
    // Warm-up: JIT, connections, the worker's workflow cache.
    await unrollRun(env, counter, steps);
    await baselineRun(env, steps);
    await floorRun(env, floor, steps);
    await floorRunOne(env, floor, steps);
    const unroll: Run[] = [];
    const baseline: Run[] = [];
    const engine: number[] = [];
    const engineOne: number[] = [];
    for (let i = 0; i < repeats; i++) {
      unroll.push(await unrollRun(env, counter, steps));
      baseline.push(await baselineRun(env, steps));
      engine.push(await floorRun(env, floor, steps));
      engineOne.push(await floorRunOne(env, floor, steps));
      process.stderr.write(`overhead run ${i + 1}/${repeats}: unroll ${unroll[i].msPerStep.toFixed(1)}, baseline ${baseline[i].msPerStep.toFixed(1)}, floor ${engine[i].toFixed(1)} (one activity: ${engineOne[i].toFixed(1)}) ms/step\n`);
    }
    const overhead = unroll.map((u, i) => u.msPerStep - baseline[i].msPerStep);
    return {
      id: 'overhead',
      title: `Overhead per step (${steps}-step turn of shell commands, zero-latency model)`,
      figures: [
        figure('Unroll (SessionWorkflow + TurnWorkflow on the dev server)', 'ms/step', unroll.map((u) => u.msPerStep)),
        figure('baseline: same activities in a plain in-process loop', 'ms/step', baseline.map((b) => b.msPerStep)),
        figure('Unroll overhead (Unroll − baseline)', 'ms/step', overhead),
        figure('engine floor: no-op workflow, 2 empty activities per step', 'ms/step', engine),
        figure('Unroll overhead / engine floor', 'ratio', overhead.map((o, i) => o / engine[i])),
        figure('Unroll / (engine floor + baseline)', 'ratio', unroll.map((u, i) => u.msPerStep / (engine[i] + baseline[i].msPerStep))),
        figure('engine floor, one empty activity per step (what a chained step pays)', 'ms/step', engineOne),
        figure('Unroll overhead / one-activity floor', 'ratio', overhead.map((o, i) => o / engineOne[i])),
        figure('store fsyncs per step, Unroll', 'fsyncs', unroll.map((u) => u.fsyncsPerStep)),
        figure('store fsyncs per step, baseline', 'fsyncs', baseline.map((b) => b.fsyncsPerStep)),
      ],
      notes: [
        `${repeats} runs after one warm-up run of each kind, interleaved (unroll, baseline, floor, one-activity floor); each run is one ${steps}-step turn; ratios are taken within a run.`,
        'Unroll runs a step whose call is read-only (this one is: `cat`) as one activity, the call and the next request together (`runToolAndInfer`), so it pays about one activity per step; the two-activity floor is the target\'s yardstick, the one-activity floor is what the same work costs in a workflow that does it the same way.',
        `A step is one inference (streamed from the scripted server over HTTP) and one shell call (\`${COMMAND.join(' ')}\` of a 2.4 KB file, a real bash process); both paths write the same store objects with fsync.`,
        'The floor is what any Temporal workflow pays for two sequential activities per step on this machine and dev server; "Unroll / (floor + baseline)" is Unroll against the engine\'s cost plus the work itself.',
        'fsyncs = objects and markers the file store wrote (each is a temporary file, fsync, rename); objects already present are not rewritten.',
      ],
    };
  } finally {
    await floor.stop();
    await env.close();
    await rm(storeDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const steps = Number(process.argv[2] ?? 100);
  const repeats = Number(process.argv[3] ?? 5);
  runOverheadBench({ steps, repeats }).then(
    (section) => process.stdout.write(sectionMarkdown(section)),
    (err: unknown) => {
      process.stderr.write(`overhead benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
