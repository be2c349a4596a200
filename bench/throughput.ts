/**
 * Benchmark 2: throughput. N concurrent sessions (1, 10, 50, 100) on ONE in-process
 * worker, each one turn of K steps (K − 1 update_plan calls, then a final message)
 * against the zero-latency scripted model. Reports steps per second over the whole
 * run, p50/p99 step latency, the worker process's RSS and where the CPU went (the
 * worker process vs. the Temporal dev server).
 *
 * A step's latency is the interval between two consecutive model requests of the same
 * thread, timed in the scripted server's handler: it covers the tool call, the
 * orchestration between the activities and the next request's preparation.
 *
 *   node dist/bench/throughput.js [levels] [steps] [repeats]   # e.g. 1,10,50,100 20 3
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import { randomUUID } from 'node:crypto';
import { startThread } from '../src/client/threads';
import { sessionWorkflowId } from '../src/shared/ids';
import type { TurnResult } from '../src/workflows/definitions';
import { assistantMessage, respond, updatePlanCall } from '../test/support/responses-builders';
import { awaitProgress, startBenchEnv, type BenchEnv } from './bench-env';
import { figure, percentile, sectionMarkdown, type BenchSection, type Figure } from './report';

/** Options of {@link runThroughputBench}. */
export interface ThroughputOptions {
  /** Concurrent sessions per level (default 1, 10, 50, 100). */
  readonly levels?: readonly number[];
  /** Steps (model calls) per session's turn (default 20). */
  readonly steps?: number;
  /** Repetitions per level (default 3). */
  readonly repeats?: number;
}

/** What one repetition of one level measured. */
interface LevelRun {
  readonly stepsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxRssMb: number;
  readonly rssGrowthMb: number;
  readonly workerCpuCores: number;
  readonly serverCpuCores: number;
}

const PLAN = [{ step: 'benchmark', status: 'in_progress' as const }];

/**
 * Scripts the model: `steps - 1` update_plan calls per thread, then a message; records
 * the arrival time of each request per thread.
 */
function scriptModel(env: BenchEnv, steps: number): Map<string, number[]> {
  const arrivals = new Map<string, number[]>();
  env.model.setHandler((request) => {
    const key = request.threadKey ?? '';
    const times = arrivals.get(key) ?? [];
    times.push(performance.now());
    arrivals.set(key, times);
    return times.length < steps ? respond(updatePlanCall(PLAN)) : respond(assistantMessage('done'));
  });
  return arrivals;
}

/** One repetition: `sessions` threads started together, each running one turn of `steps` steps. */
async function runLevel(env: BenchEnv, sessions: number, steps: number): Promise<LevelRun> {
  const arrivals = scriptModel(env, steps);
  const rssAtStart = process.memoryUsage().rss;
  let maxRss = rssAtStart;
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 100);
  const serverPid = findChildPid('temporal');
  const cpuAtStart = process.cpuUsage();
  const serverCpuAtStart = processCpuSeconds(serverPid);
  const started = performance.now();
  const threadIds = Array.from({ length: sessions }, () => `bench-tp-${randomUUID()}`);
  let results: TurnResult[];
  try {
    const turns = Promise.all(
      threadIds.map(async (threadId) => {
        const turn = await startThread(env.client, { threadId, settings: env.settings(), text: 'plan repeatedly', taskQueue: env.taskQueue });
        return env.client.workflow.getHandle(turn.turnWorkflowId).result() as Promise<TurnResult>;
      }),
    );
    results = await awaitProgress(env, `throughput with ${sessions} sessions`, turns);
  } finally {
    clearInterval(sampler);
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  const serverCpu = processCpuSeconds(serverPid) - serverCpuAtStart;
  maxRss = Math.max(maxRss, process.memoryUsage().rss);
  // Sessions wait for their next input forever; end them so the next run starts clean.
  await Promise.all(threadIds.map((id) => env.client.workflow.getHandle(sessionWorkflowId(id)).terminate('benchmark done')));

  const bad = results.find((r) => r.status !== 'completed' || r.steps !== steps);
  if (bad) throw new Error(`a throughput session ended ${bad.status} after ${bad.steps} steps (expected ${steps}): ${bad.error?.message ?? ''}`);
  const latencies = threadIds.flatMap((id) => intervals(arrivals.get(id) ?? []));
  if (latencies.length !== sessions * (steps - 1)) throw new Error(`expected ${sessions * (steps - 1)} step intervals, measured ${latencies.length}`);
  return {
    stepsPerSecond: (sessions * steps) / wallSeconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxRssMb: maxRss / 2 ** 20,
    rssGrowthMb: (maxRss - rssAtStart) / 2 ** 20,
    workerCpuCores: (cpu.user + cpu.system) / 1e6 / wallSeconds,
    serverCpuCores: serverCpu / wallSeconds,
  };
}

function intervals(times: readonly number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]);
}

/** Runs benchmark 2 and returns its section. */
export async function runThroughputBench(options: ThroughputOptions = {}): Promise<BenchSection> {
  const levels = options.levels ?? [1, 10, 50, 100];
  const steps = options.steps ?? 20;
  const repeats = options.repeats ?? 3;
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const sessions of levels) {
    // A fresh dev server and worker per level, so one level's sessions cannot slow the next.
    const env = await startBenchEnv();
    try {
      await runLevel(env, Math.min(sessions, 5), steps); // warm-up: JIT, connections, workflow code
      const runs: LevelRun[] = [];
      for (let i = 0; i < repeats; i++) {
        runs.push(await runLevel(env, sessions, steps));
        process.stderr.write(`throughput: ${sessions} sessions, run ${i + 1}/${repeats}: ${runs[i].stepsPerSecond.toFixed(1)} steps/s\n`);
      }
      const of = (pick: (r: LevelRun) => number) => runs.map(pick);
      figures.push(
        figure(`${sessions} sessions: throughput`, 'steps/s', of((r) => r.stepsPerSecond)),
        figure(`${sessions} sessions: step latency p50`, 'ms', of((r) => r.p50Ms)),
        figure(`${sessions} sessions: step latency p99`, 'ms', of((r) => r.p99Ms)),
        figure(`${sessions} sessions: worker process RSS (max)`, 'MB', of((r) => r.maxRssMb)),
        figure(`${sessions} sessions: worker process CPU`, 'cores', of((r) => r.workerCpuCores)),
        figure(`${sessions} sessions: Temporal dev server CPU`, 'cores', of((r) => r.serverCpuCores)),
      );
    } finally {
      await env.close();
    }
  }
  notes.push(
    `Each session is one turn of ${steps} steps (${steps - 1} update_plan calls, then a final message) against the zero-latency scripted model; all sessions of a run are started at once on one in-process worker with default worker options (40 concurrent workflow tasks, 100 concurrent activities, sticky cache on).`,
    `${repeats} runs per level after a warm-up run; each level gets a fresh dev server and worker, levels run in the order ${levels.join(', ')} in one Node process.`,
    'Throughput = steps of all sessions / wall time from starting the sessions (update-with-start) to the last turn result.',
    'Step latency = time between consecutive model requests of one thread, taken in the scripted server (tool call + orchestration + request preparation); p50/p99 over every step of the run.',
    'RSS is of the whole bench process, which hosts the worker, the scripted model server and the client; CPU is process CPU time / wall time (this machine has ' +
      `${os.availableParallelism()} cores), for the bench process and for the Temporal dev server process.`,
  );
  return { id: 'throughput', title: `Throughput: concurrent sessions on one worker (${steps}-step turns, trivial tool)`, figures, notes };
}

/** The pid of a direct child process of this one whose command name is `name` (Linux only). */
function findChildPid(name: string): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readProcStat(Number(entry));
      if (stat && stat.comm === name && stat.ppid === process.pid) return Number(entry);
    }
  } catch {
    // No /proc: the server's CPU is reported as 0.
  }
  return undefined;
}

/** CPU seconds (user + system) a process has used so far; 0 when unknown. */
function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readProcStat(pid);
  return stat ? (stat.utime + stat.stime) / CLOCK_TICKS : 0;
}

/** Linux's USER_HZ, which /proc/<pid>/stat times are counted in. */
const CLOCK_TICKS = 100;

function readProcStat(pid: number): { comm: string; ppid: number; utime: number; stime: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    // Fields after the command name: state ppid … utime (14th field overall) stime (15th).
    const rest = text.slice(close + 2).split(' ');
    return { comm, ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
  } catch {
    return undefined;
  }
}

if (require.main === module) {
  const levels = process.argv[2]?.split(',').map(Number);
  const steps = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  const repeats = process.argv[4] === undefined ? undefined : Number(process.argv[4]);
  runThroughputBench({ levels, steps, repeats }).then(
    (section) => process.stdout.write(sectionMarkdown(section)),
    (err: unknown) => {
      process.stderr.write(`throughput benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
