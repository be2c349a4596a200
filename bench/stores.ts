/**
 * Benchmark: the file store and the PostgreSQL store side by side. The same scripted
 * multi-step turn (each step: one model response with a shell call, the call's output
 * stored, the next request built from the transcript) runs on a worker whose store is
 * first a file store in a temp dir, then a fresh database on a private PostgreSQL
 * cluster. Per step it reports the turn's history bytes (read back from the server),
 * the store round trips (`OpenedStore.roundTrips()`: statements on PostgreSQL,
 * filesystem calls on the file store) and the wall time.
 *
 *   npm run bench:stores                   # writes bench/results/stores.md and stores.json
 *   node dist/bench/stores.js [steps] [turns]
 *
 * PostgreSQL: `UNROLL_TEST_PG_URL` when set (a fresh database on that cluster), else a
 * private cluster started here (test/support/postgres.ts; needs the server binaries).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { startThread } from '../src/client/threads';
import { sessionWorkflowId } from '../src/shared/ids';
import { checkStore, openStore, type OpenedStore } from '../src/store';
import type { TurnResult } from '../src/workflows/definitions';
import { freshDatabase, startPostgres, stopPostgres, type PostgresCluster } from '../test/support/postgres';
import { assistantMessage, respond, shellCall } from '../test/support/responses-builders';
import { awaitProgress, startBenchEnv } from './bench-env';
import { bytesPerStep, fetchRuns } from './history-stats';
import { figure, sectionMarkdown, type BenchSection, type Figure } from './report';

/** Options of {@link runStoresBench}. */
export interface StoresBenchOptions {
  /** Steps per turn (default 20). */
  readonly steps?: number;
  /** Turns per store (default 3); each turn is a new thread. */
  readonly turns?: number;
}

/** What one store measured: one sample per step over all turns. */
interface StoreResult {
  readonly kind: string;
  readonly historyBytes: number[];
  readonly roundTrips: number[];
  readonly msPerStep: number[];
  /** Round trips of a cold process (a CLI on another machine) loading the turn's whole transcript. */
  readonly coldLoadTrips: number[];
}

async function measureStore(open: () => OpenedStore, steps: number, turns: number): Promise<StoreResult> {
  const opened = open();
  await checkStore(opened);
  const env = await startBenchEnv({ store: opened.store });
  const result: StoreResult = { kind: opened.kind, historyBytes: [], roundTrips: [], msPerStep: [], coldLoadTrips: [] };
  try {
    for (let t = 0; t < turns; t++) {
      const threadId = `bench-stores-${randomUUID()}`;
      let served = 0;
      env.model.setHandler(() => {
        served += 1;
        return served <= steps ? respond(shellCall(['echo', `step ${served}`])) : respond(assistantMessage('done'));
      });
      const before = opened.roundTrips();
      const started = performance.now();
      const turn = await startThread(env.client, { threadId, settings: env.settings(), text: `run ${steps} steps`, taskQueue: env.taskQueue });
      const ended = await awaitProgress(env, `stores (${opened.kind})`, env.client.workflow.getHandle(turn.turnWorkflowId).result() as Promise<TurnResult>);
      const ms = performance.now() - started;
      const trips = opened.roundTrips() - before;
      await env.client.workflow.getHandle(sessionWorkflowId(threadId)).terminate('benchmark done');
      if (ended.status !== 'completed') throw new Error(`stores bench turn ended ${ended.status}: ${ended.error?.message ?? ''}`);
      // steps tool steps plus the final answer: every request is a step.
      const allSteps = steps + 1;
      result.historyBytes.push(...bytesPerStep(await fetchRuns(env.client, turn.turnWorkflowId)).slice(0, steps));
      result.roundTrips.push(trips / allSteps);
      result.msPerStep.push(ms / allSteps);
      const cold = open();
      try {
        await checkStore(cold);
        const start = cold.roundTrips();
        await cold.store.loadTranscript(ended.head);
        result.coldLoadTrips.push(cold.roundTrips() - start);
      } finally {
        await cold.close();
      }
      process.stderr.write(`stores: ${opened.kind} turn ${t + 1}/${turns}: ${(trips / allSteps).toFixed(1)} round trips/step, ${(ms / allSteps).toFixed(1)} ms/step\n`);
    }
  } finally {
    await env.close();
    await opened.close();
  }
  return result;
}

/** Runs the benchmark and returns its section. */
export async function runStoresBench(options: StoresBenchOptions = {}): Promise<BenchSection> {
  const steps = options.steps ?? 20;
  const turns = options.turns ?? 3;
  const home = await mkdtemp(path.join(os.tmpdir(), 'unroll-bench-stores-'));
  let cluster: PostgresCluster | undefined;
  const results: StoreResult[] = [];
  try {
    results.push(await measureStore(() => openStore(`file:${path.join(home, 'store')}`, { home }), steps, turns));
    const base = process.env.UNROLL_TEST_PG_URL ?? (cluster = await startPostgres()).url;
    const database = await freshDatabase(base, 'unroll_bench');
    results.push(await measureStore(() => openStore(database, { home, source: 'bench' }), steps, turns));
  } finally {
    if (cluster) await stopPostgres(cluster);
    await rm(home, { recursive: true, force: true });
  }
  const figures: Figure[] = results.flatMap((r) => [
    figure(`${r.kind}: history per step`, 'bytes', r.historyBytes),
    figure(`${r.kind}: store round trips per step`, 'round trips', r.roundTrips),
    figure(`${r.kind}: time per step`, 'ms', r.msPerStep),
    figure(`${r.kind}: round trips to load a turn's transcript cold`, 'round trips', r.coldLoadTrips),
  ]);
  return {
    id: 'stores',
    title: `File store and PostgreSQL store side by side (${turns} turns of ${steps} shell steps each)`,
    figures,
    notes: [
      'Each step: the model answers with one shell call (`echo step N`), the worker runs it and stores its output, the next request is built from the transcript. The last request of each turn (the final answer) counts as a step too.',
      'History per step: the encoded size of the turn workflow\'s history events from one runInference scheduled to the next (one sample per step). It does not depend on the store: workflows and activities pass only hashes.',
      'Round trips per step: OpenedStore.roundTrips() over the whole turn divided by its steps (one sample per turn): SQL statements on PostgreSQL (reads are batched: a transcript chain is one recursive query, its objects one more), filesystem calls on the file store.',
      `Cold load: a newly opened store (as a CLI on another machine has) loading the transcript at the end of a turn (${steps + 1} step nodes plus the turn's first node, and every item they hold), one sample per turn.`,
      'Time per step: wall time of the turn, from the start request to its result, divided by its steps (one sample per turn); the engine floor of this machine\'s dev server (see bench.md, overhead) dominates both.',
      'The worker runs in this process, with the dev server, the scripted model and PostgreSQL (a private cluster with fsync=off, as in the tests) on the same 2-core machine; the file store fsyncs every object.',
    ],
  };
}

if (require.main === module) {
  const steps = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  const turns = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  runStoresBench({ steps, turns }).then(
    async (section) => {
      const markdown = sectionMarkdown(section);
      const dir = path.resolve(__dirname, '..', '..', 'bench', 'results');
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'stores.md'), `# Store benchmark\n\n${markdown}`);
      await writeFile(path.join(dir, 'stores.json'), `${JSON.stringify(section, null, 2)}\n`);
      process.stdout.write(markdown);
    },
    (err: unknown) => {
      process.stderr.write(`stores benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
