/**
 * Benchmark 4: replay speed. Records one turn of 1,000 steps (update_plan calls against
 * the scripted model, no compaction), fetches every run of its turn workflow (it
 * continues-as-new when Temporal suggests it) and replays them with the SDK's replayer
 * (`Worker.runReplayHistories`) and the built workflow bundle, as `unroll replay` and
 * the corpus tests do. A 1-step turn is replayed the same way to show the fixed cost of
 * starting a replay worker.
 *
 *   node dist/bench/replay-speed.js [steps] [repeats]   # e.g. 1000 3
 */
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { startThread } from '../src/client/threads';
import { sessionWorkflowId } from '../src/shared/ids';
import { defaultWorkflowBundlePath } from '../src/workers/worker';
import type { TurnResult } from '../src/workflows/definitions';
import { assistantMessage, respond, updatePlanCall } from '../test/support/responses-builders';
import { awaitProgress, startBenchEnv, type BenchEnv } from './bench-env';
import { fetchRuns, type RunHistory } from './history-stats';
import { figure, sectionMarkdown, type BenchSection } from './report';
import { turnProgressSinks } from '../src/workers/turn-progress-sinks';

/** Options of {@link runReplaySpeedBench}. */
export interface ReplaySpeedOptions {
  /** Steps of the recorded turn (default 1,000). */
  readonly steps?: number;
  /** Replays of the recording (default 3). */
  readonly repeats?: number;
}

const PLAN = [{ step: 'record', status: 'in_progress' as const }];
const WORKFLOW_TASK_COMPLETED = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED;

/** Records one turn of `steps` steps; returns every run of its turn workflow. */
async function recordTurn(env: BenchEnv, steps: number): Promise<{ workflowId: string; runs: RunHistory[] }> {
  const threadId = `bench-replay-${randomUUID()}`;
  let served = 0;
  env.model.setHandler((request) => {
    if (request.threadKey !== threadId) throw new Error(`unexpected thread ${request.threadKey}`);
    served += 1;
    if (served % 200 === 0) process.stderr.write(`replay-speed: recording step ${served}/${steps}\n`);
    return served < steps ? respond(updatePlanCall(PLAN)) : respond(assistantMessage('recorded'));
  });
  const settings = env.settings({
    context: { windowTokens: 10_000_000, autoCompactTokens: 9_000_000, compaction: 'local', recentUserMessageTokens: 20_000, stepsPerRun: null },
  });
  const turn = await startThread(env.client, { threadId, settings, text: 'plan again and again', taskQueue: env.taskQueue });
  const result = await awaitProgress(env, `recording a ${steps}-step turn`, env.client.workflow.getHandle(turn.turnWorkflowId).result() as Promise<TurnResult>);
  await env.client.workflow.getHandle(sessionWorkflowId(threadId)).terminate('benchmark done');
  if (result.status !== 'completed' || result.steps !== steps) throw new Error(`recorded turn ended ${result.status} after ${result.steps} steps`);
  return { workflowId: turn.turnWorkflowId, runs: await fetchRuns(env.client, turn.turnWorkflowId) };
}

/** Replays every run in one replay worker; returns the wall time in ms. Throws on any replay failure. */
async function replay(bundlePath: string, workflowId: string, runs: readonly RunHistory[]): Promise<number> {
  const started = performance.now();
  const histories = runs.map((run) => ({ workflowId, history: { events: run.events } }));
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: bundlePath }, replayName: 'bench-replay', sinks: turnProgressSinks() }, histories)) {
    if (result.error) throw new Error(`replay of ${result.workflowId} failed: ${result.error.message}`);
  }
  return performance.now() - started;
}

/** Runs benchmark 4 and returns its section. */
export async function runReplaySpeedBench(options: ReplaySpeedOptions = {}): Promise<BenchSection> {
  const steps = options.steps ?? 1000;
  const repeats = options.repeats ?? 3;
  const bundlePath = defaultWorkflowBundlePath();
  if (!bundlePath) throw new Error('dist/workflow-bundle.js is missing: run `npm run build` first');
  const env = await startBenchEnv();
  let recorded: { workflowId: string; runs: RunHistory[] };
  let tiny: { workflowId: string; runs: RunHistory[] };
  const recordStarted = performance.now();
  try {
    recorded = await recordTurn(env, steps);
    tiny = await recordTurn(env, 1);
  } finally {
    await env.close();
  }
  const recordSeconds = (performance.now() - recordStarted) / 1000;
  await replay(bundlePath, tiny.workflowId, tiny.runs); // warm-up: loads the bundle's modules once
  const total: number[] = [];
  const startup: number[] = [];
  for (let i = 0; i < repeats; i++) {
    total.push(await replay(bundlePath, recorded.workflowId, recorded.runs));
    startup.push(await replay(bundlePath, tiny.workflowId, tiny.runs));
  }
  const events = recorded.runs.reduce((n, r) => n + r.events.length, 0);
  const workflowTasks = recorded.runs.reduce((n, r) => n + r.events.filter((e) => e.eventType === WORKFLOW_TASK_COMPLETED).length, 0);
  const bytes = recorded.runs.reduce((n, r) => n + r.bytes, 0);
  return {
    id: 'replay-speed',
    title: `Replay speed (${steps}-step recorded turn)`,
    figures: [
      figure(`replay of the ${steps}-step turn (all runs), total`, 'ms', total),
      figure('per step', 'µs', total.map((ms) => (ms * 1000) / steps)),
      figure('replay of a 1-step turn (replay worker start-up and one short history)', 'ms', startup),
      figure('per step, without the 1-step cost', 'µs', total.map((ms, i) => ((ms - startup[i]) * 1000) / steps)),
      figure('per workflow task, without the 1-step cost', 'µs', total.map((ms, i) => ((ms - startup[i]) * 1000) / workflowTasks)),
    ],
    notes: [
      `The recorded turn: ${steps} steps (update_plan calls, no compaction), ${recorded.runs.length} workflow run(s) (continue-as-new when Temporal suggested it), ${events} history events, ${workflowTasks} workflow tasks, ${(bytes / 1e6).toFixed(2)} MB of history; recorded in ${recordSeconds.toFixed(0)} s.`,
      `${repeats} replays after a warm-up; each creates a replay worker from dist/workflow-bundle.js (\`Worker.runReplayHistories\`) and replays every run of the turn; "total" includes creating the worker.`,
      'Replay needs only the history: no activity runs, the store and the model are not touched.',
    ],
  };
}

if (require.main === module) {
  const steps = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  const repeats = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  runReplaySpeedBench({ steps, repeats }).then(
    (section) => process.stdout.write(sectionMarkdown(section)),
    (err: unknown) => {
      process.stderr.write(`replay-speed benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
