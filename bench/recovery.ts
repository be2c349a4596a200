/**
 * Benchmark 5: recovery from a killed worker. A worker in a child process (`bin/unroll
 * worker`) runs a turn; in step 2 the scripted model opens the stream and then hangs,
 * and the worker is killed with SIGKILL. A new worker is spawned right away. Measured:
 * the time from the kill until step 2 has completed on the new worker (the workflow
 * task that takes in step 2's inference result is completed), with a breakdown read
 * from the model server's request times and the turn's history.
 *
 * It depends on timeouts: the thread runs with the test suite's short timings
 * (TEST_TIMINGS: 2 s inference heartbeat timeout, retries from 100 ms), and the workers
 * with Unroll's sticky queue schedule-to-start timeout (2 s, set in src/workers/worker.ts).
 *
 *   node dist/bench/recovery.js [repeats] [heartbeatMs]   # e.g. 3 2000
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { startThread } from '../src/client/threads';
import type { ActivityTimings } from '../src/config/settings';
import { sessionWorkflowId } from '../src/shared/ids';
import type { TurnResult } from '../src/workflows/definitions';
import { assistantMessage, hang, respond, updatePlanCall } from '../test/support/responses-builders';
import { TEST_TIMINGS } from '../test/support/session-settings';
import { spawnWorker, waitFor, type WorkerProcess } from '../test/support/worker-process';
import { awaitProgress, startBenchEnv, type BenchEnv } from './bench-env';
import { eventTimeMs, fetchRuns, inferenceStep } from './history-stats';
import { figure, sectionMarkdown, type BenchSection } from './report';

/** Options of {@link runRecoveryBench}. */
export interface RecoveryOptions {
  /** Kills to measure (default 3). */
  readonly repeats?: number;
  /** Inference heartbeat timeout of the thread (default TEST_TIMINGS', 2 s). */
  readonly heartbeatMs?: number;
}

/** SDK default, which `unroll worker` does not change. */
const STICKY_SCHEDULE_TO_START_MS = 2_000;
/** The step whose model stream is open when the worker is killed. */
const KILLED_STEP = 2;
const PLAN = [{ step: 'survive', status: 'in_progress' as const }];
const EventType = temporal.api.enums.v1.EventType;

/** One kill and what followed, in ms. */
interface Recovery {
  readonly total: number;
  readonly toRetryStarted: number;
  readonly retryStartedToRequest: number;
  readonly retryToInferenceDone: number;
  readonly inferenceDoneToStepDone: number;
  readonly workerStartup: number;
  readonly workflowTaskTimeouts: number;
}

/** Worker processes still alive, killed if this process exits before it cleans up. */
const live = new Set<WorkerProcess>();
process.on('exit', () => {
  for (const w of live) w.child.kill('SIGKILL');
});

async function startWorker(home: string, taskQueue: string, address: string): Promise<WorkerProcess> {
  const worker = await spawnWorker({ home, taskQueue, address });
  live.add(worker);
  return worker;
}

async function stopWorker(worker: WorkerProcess): Promise<void> {
  const graceful = worker.stop();
  const timer = setTimeout(() => worker.child.kill('SIGKILL'), 5_000);
  await graceful;
  clearTimeout(timer);
  live.delete(worker);
}

async function measureOnce(env: BenchEnv, home: string, timings: ActivityTimings): Promise<Recovery> {
  const taskQueue = `bench-recovery-${randomUUID()}`;
  const threadId = `bench-recovery-${randomUUID()}`;
  const arrivals: number[] = [];
  env.model.setHandler((request) => {
    if (request.threadKey !== threadId) throw new Error(`unexpected thread ${request.threadKey}`);
    arrivals.push(Date.now());
    const n = arrivals.length;
    if (n === KILLED_STEP) return hang();
    // Request KILLED_STEP + 1 is that step's retry on the new worker; the step after it ends the turn.
    return n <= KILLED_STEP + 1 ? respond(updatePlanCall(PLAN)) : respond(assistantMessage('recovered'));
  });
  const workers: WorkerProcess[] = [];
  try {
    workers.push(await startWorker(home, taskQueue, env.address));
    const settings = env.settings({ timings, toolTaskQueue: taskQueue });
    const turn = await startThread(env.client, { threadId, settings, text: 'survive a crash', taskQueue });
    await waitFor(`model request ${KILLED_STEP} (the stream that hangs)`, () => arrivals.length >= KILLED_STEP, 60_000);
    const killedAt = Date.now();
    await workers[0].kill();
    live.delete(workers[0]);
    const spawnedAt = Date.now();
    workers.push(await startWorker(home, taskQueue, env.address));
    const workerStartup = Date.now() - spawnedAt;
    const result = await awaitProgress(env, 'recovery after the kill', env.client.workflow.getHandle(turn.turnWorkflowId).result() as Promise<TurnResult>);
    await env.client.workflow.getHandle(sessionWorkflowId(threadId)).terminate('benchmark done');
    if (result.status !== 'completed') throw new Error(`recovery turn ended ${result.status}: ${result.error?.message ?? ''}`);

    const events = (await fetchRuns(env.client, turn.turnWorkflowId)).flatMap((r) => r.events);
    const scheduled = events.find((e) => inferenceStep(e) === KILLED_STEP);
    const completedIndex = events.findIndex((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === scheduled?.eventId?.toString());
    if (!scheduled || completedIndex < 0) throw new Error(`step ${KILLED_STEP}'s inference is not in the turn's history`);
    const afterCompletion = events.slice(completedIndex + 1);
    const stepDone = afterCompletion.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    if (!stepDone) throw new Error(`no workflow task completed after step ${KILLED_STEP}'s inference`);
    const stepDoneIndex = afterCompletion.indexOf(stepDone);
    const inferenceDone = eventTimeMs(events[completedIndex]);
    const retryRequest = arrivals[KILLED_STEP];
    const started = events.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduled.eventId?.toString());
    if (!started) throw new Error(`step ${KILLED_STEP}'s inference has no started event`);
    return {
      total: eventTimeMs(stepDone) - killedAt,
      toRetryStarted: eventTimeMs(started) - killedAt,
      retryStartedToRequest: retryRequest - eventTimeMs(started),
      retryToInferenceDone: inferenceDone - retryRequest,
      inferenceDoneToStepDone: eventTimeMs(stepDone) - inferenceDone,
      workerStartup,
      workflowTaskTimeouts: afterCompletion.slice(0, stepDoneIndex).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT).length,
    };
  } finally {
    for (const w of workers) await stopWorker(w);
  }
}

/** Runs benchmark 5 and returns its section. */
export async function runRecoveryBench(options: RecoveryOptions = {}): Promise<BenchSection> {
  const repeats = options.repeats ?? 3;
  const timings: ActivityTimings = { ...TEST_TIMINGS, inferenceHeartbeatMs: options.heartbeatMs ?? TEST_TIMINGS.inferenceHeartbeatMs };
  const env = await startBenchEnv();
  const home = await mkdtemp(path.join(os.tmpdir(), 'unroll-bench-recovery-'));
  const runs: Recovery[] = [];
  try {
    for (let i = 0; i < repeats; i++) {
      runs.push(await measureOnce(env, home, timings));
      process.stderr.write(`recovery: run ${i + 1}/${repeats}: ${runs[i].total} ms\n`);
    }
  } finally {
    await env.close();
    await rm(home, { recursive: true, force: true });
  }
  const of = (pick: (r: Recovery) => number) => runs.map(pick);
  return {
    id: 'recovery',
    title: 'Recovery: SIGKILL of a worker mid-step to the step completing on a new worker',
    figures: [
      figure('SIGKILL → the interrupted step completed on the new worker', 'ms', of((r) => r.total)),
      figure('  SIGKILL → the step\'s retry started on the new worker (heartbeat timeout + retry interval)', 'ms', of((r) => r.toRetryStarted)),
      figure('  retry started → its model request arrived', 'ms', of((r) => r.retryStartedToRequest)),
      figure('  re-sent request → inference activity completed', 'ms', of((r) => r.retryToInferenceDone)),
      figure('  inference completed → workflow task completed on the new worker', 'ms', of((r) => r.inferenceDoneToStepDone)),
      figure('new worker start-up (spawn → polling; overlaps the above)', 'ms', of((r) => r.workerStartup)),
      figure('workflow task timeouts in between (sticky queue of the dead worker)', 'count', of((r) => r.workflowTaskTimeouts)),
    ],
    notes: [
      `Settings: inference heartbeat timeout ${timings.inferenceHeartbeatMs} ms (the test suite's TEST_TIMINGS; with the production default of 60 s, detection alone takes over a minute), ` +
        `retry initial interval ${TEST_TIMINGS.retryInitialMs} ms (max ${TEST_TIMINGS.retryMaxMs} ms), sticky queue schedule-to-start timeout ${STICKY_SCHEDULE_TO_START_MS / 1000} s (set by createUnrollWorker; the SDK default is 10 s, which made this 14 s before).`,
      `Each run: a fresh task queue and a worker in a child process (\`bin/unroll worker\`); step ${KILLED_STEP}'s model stream opens and hangs; SIGKILL as soon as the request arrives; a new worker is spawned immediately. ${repeats} runs.`,
      'Times of the kill and of the model requests are taken in this process, those of the activity and workflow task completions are the Temporal server\'s event times (same machine clock).',
      'The retry starts when the server has timed out the activity\'s heartbeat; here that took about the heartbeat timeout plus 2 s (the server\'s timer checks).',
      'The workflow task that takes in the retried result is first offered to the dead worker\'s sticky queue, which the server still counts as live (it was polled seconds ago), and moves to the shared queue only when the 10 s sticky schedule-to-start timeout expires: the "workflow task timeouts" row. ' +
        'With a heartbeat timeout above about 10 s that wait disappears, because by then the server no longer offers tasks to a sticky queue nobody polls (`node dist/bench/recovery.js 1 12000` shows it), so recovery ≈ max(heartbeat detection, ~10 s) plus a few hundred ms. A shorter `stickyQueueScheduleToStartTimeout` on the worker would cut the 10 s.',
    ],
  };
}

if (require.main === module) {
  const repeats = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  const heartbeatMs = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  runRecoveryBench({ repeats, heartbeatMs }).then(
    (section) => process.stdout.write(sectionMarkdown(section)),
    (err: unknown) => {
      process.stderr.write(`recovery benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
