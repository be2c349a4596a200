/**
 * Benchmark 1: orchestration overhead per agent step. A 200-step turn (one inference
 * plus one trivial tool call per step, update_plan) against a zero-latency scripted
 * model, run three ways:
 *   - unroll:   the real SessionWorkflow/TurnWorkflow on the local dev server;
 *   - baseline: the same activity functions called in a plain loop in one process;
 *   - floor:    a no-op workflow that runs two empty activities per step (the engine's
 *               own cost, nothing of Unroll in it).
 * Overhead = unroll − baseline. Reported as a median over repeated runs.
 *
 *   node dist/bench/overhead.js [steps] [repeats]
 */
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { NO_CONTEXT } from '../src/shared/context-state';
import { followTurn, startThread } from '../src/client/threads';
import { openFsStore } from '../src/store';
import { DEFAULT_SHELL_ENVIRONMENT_POLICY, toolEnvironment } from '../src/tools/environment';
import { assistantMessage, respond, updatePlanCall } from '../test/support/responses-builders';
import { startBenchEnv, type BenchEnv } from './bench-env';
import { figure, sectionMarkdown, type BenchSection } from './report';

const PLAN = [{ step: 'benchmark', status: 'in_progress' as const }];

/** Scripts the model: `steps - 1` tool steps per thread, then a final message. */
function scriptModel(env: BenchEnv, steps: number): void {
  const served = new Map<string, number>();
  env.model.setHandler((request) => {
    const key = request.threadKey ?? '';
    const n = (served.get(key) ?? 0) + 1;
    served.set(key, n);
    return n < steps ? respond(updatePlanCall(PLAN)) : respond(assistantMessage('done'));
  });
}

async function unrollRun(env: BenchEnv, steps: number): Promise<number> {
  const threadId = `overhead-${randomUUID()}`;
  const started = performance.now();
  const turn = await startThread(env.client, { threadId, settings: env.settings(), text: 'plan repeatedly', taskQueue: env.taskQueue });
  const result = await followTurn(env.client, turn.turnWorkflowId, () => undefined, { pollMs: 1_000 });
  if (result.status !== 'completed' || result.steps !== steps) throw new Error(`unroll run ended ${result.status} after ${result.steps} steps`);
  return (performance.now() - started) / steps;
}

async function baselineRun(env: BenchEnv, steps: number): Promise<number> {
  const store = openFsStore(path.join(env.workspace, `.baseline-${randomUUID()}`));
  const activities = createActivities({
    store,
    apiKey: () => 'bench-key',
    host: { shell: 'bash', timezone: 'UTC', now: () => new Date('2026-11-21T00:00:00Z') },
    toolEnvironment: toolEnvironment(process.env, DEFAULT_SHELL_ENVIRONMENT_POLICY),
  });
  const threadId = `baseline-${randomUUID()}`;
  const settings = env.settings();
  const started = performance.now();
  const begun = await activities.beginTurn({ threadId, turn: 1, head: null, settings, userText: 'plan repeatedly', context: NO_CONTEXT });
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
  return (performance.now() - started) / steps;
}

async function floorRun(env: BenchEnv, worker: FloorWorker, steps: number): Promise<number> {
  const started = performance.now();
  await env.client.workflow.execute('FloorWorkflow', { taskQueue: worker.taskQueue, workflowId: `floor-${randomUUID()}`, args: [steps] });
  return (performance.now() - started) / steps;
}

interface FloorWorker {
  readonly taskQueue: string;
  stop(): Promise<void>;
}

async function startFloorWorker(env: BenchEnv): Promise<FloorWorker> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('./floor/workflows'), logger: quietLogger });
  const taskQueue = `floor-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { code },
    activities: {
      noopInference: (input: { step: number; head: string }) => Promise.resolve({ head: `${input.head.slice(0, 8)}${input.step}`, calls: 1 }),
      noopTool: () => Promise.resolve({ output: 'ok' }),
    },
  });
  const running = worker.run();
  return {
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/** Runs benchmark 1 and returns its section. */
export async function runOverheadBench(options: { steps?: number; repeats?: number } = {}): Promise<BenchSection> {
  const steps = options.steps ?? 200;
  const repeats = options.repeats ?? 5;
  const env = await startBenchEnv();
  const floor = await startFloorWorker(env);
  try {
    scriptModel(env, steps);
    // Warm-up: JIT, connections, the worker's workflow cache.
    await unrollRun(env, steps);
    await baselineRun(env, steps);
    await floorRun(env, floor, steps);
    const unroll: number[] = [];
    const baseline: number[] = [];
    const engine: number[] = [];
    for (let i = 0; i < repeats; i++) {
      unroll.push(await unrollRun(env, steps));
      baseline.push(await baselineRun(env, steps));
      engine.push(await floorRun(env, floor, steps));
    }
    const overhead = unroll.map((u, i) => u - baseline[i]);
    return {
      id: 'overhead',
      title: `Overhead per step (${steps}-step turn, zero-latency model, trivial tool)`,
      figures: [
        figure('Unroll (SessionWorkflow + TurnWorkflow on the dev server)', 'ms/step', unroll),
        figure('baseline: same activities in a plain in-process loop', 'ms/step', baseline),
        figure('Unroll overhead (Unroll − baseline)', 'ms/step', overhead),
        figure('engine floor: no-op workflow, 2 empty activities per step', 'ms/step', engine),
        figure('Unroll overhead / engine floor', 'ratio', overhead.map((o, i) => o / engine[i])),
      ],
      notes: [
        `${repeats} runs after one warm-up run of each kind; each run is one ${steps}-step turn.`,
        'A step is one inference (streamed from the scripted server over HTTP) and one update_plan call; both paths write the same store objects with fsync.',
        'The floor is what any Temporal workflow pays for two sequential activities per step on this machine and dev server.',
      ],
    };
  } finally {
    await floor.stop();
    await env.close();
  }
}

if (require.main === module) {
  const steps = Number(process.argv[2] ?? 200);
  const repeats = Number(process.argv[3] ?? 5);
  runOverheadBench({ steps, repeats }).then(
    (section) => process.stdout.write(sectionMarkdown(section)),
    (err: unknown) => {
      process.stderr.write(`overhead benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
