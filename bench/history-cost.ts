/**
 * Benchmark 3: history cost per step against context size. For each target size (10 KB,
 * 100 KB, 1 MB of request input) one turn first grows the conversation with shell calls
 * that print up to 9 KB of a file each (`head -c`, up to ten calls per step), then runs
 * measured steps with a trivial update_plan call each. Reports, per measured step, the
 * turn workflow's history bytes and events read back from the server, next to what an
 * activity that carried the whole transcript inline would put into history (computed,
 * see the notes).
 *
 *   node dist/bench/history-cost.js [sizesKB] [steps]   # e.g. 10,100,1000 20
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { startThread } from '../src/client/threads';
import { sessionWorkflowId } from '../src/shared/ids';
import type { TurnResult } from '../src/workflows/definitions';
import { assistantMessage, respond, shellCall, updatePlanCall } from '../test/support/responses-builders';
import { awaitProgress, startBenchEnv, type BenchEnv } from './bench-env';
import { bytesPerStep, eventsPerStep, fetchRuns } from './history-stats';
import { figure, sectionMarkdown, type BenchSection, type Figure } from './report';

/** Options of {@link runHistoryCostBench}. */
export interface HistoryCostOptions {
  /** Context sizes to measure at, in bytes of request input (default 10 KB, 100 KB, 1 MB). */
  readonly sizes?: readonly number[];
  /** Measured steps per size (default 20). */
  readonly steps?: number;
}

/** Temporal's hard limit on one workflow run's history. */
const HISTORY_LIMIT_BYTES = 50 * 1024 * 1024;
/** Temporal's default payload size limits: a warning, then an error. */
const PAYLOAD_WARN_BYTES = 512 * 1024;
const PAYLOAD_LIMIT_BYTES = 2 * 1024 * 1024;
const CHUNK_FILE = 'chunk.txt';
/** Just under the shell tool's 10 KiB output budget, so each call's output is returned whole. */
const CHUNK_BYTES = 9_000;
const MAX_CALLS_PER_STEP = 10;
/** Request bytes one shell call adds besides its output: the call item, the output item's framing, JSON escapes. */
const CALL_FRAMING_BYTES = 500;
const PLAN = [{ step: 'measure', status: 'in_progress' as const }];

/** What one context size measured. */
interface SizeResult {
  readonly targetBytes: number;
  readonly growthSteps: number;
  /** Request input bytes of each measured step. */
  readonly contextBytes: number[];
  readonly historyBytes: number[];
  readonly historyEvents: number[];
}

/** Bytes of a request's `input`, as JSON: the conversation the model is sent. */
function inputBytes(input: unknown): number {
  return Buffer.byteLength(JSON.stringify(input));
}

async function measureSize(env: BenchEnv, targetBytes: number, steps: number): Promise<SizeResult> {
  const threadId = `bench-hc-${randomUUID()}`;
  let served = 0;
  let measureFrom: number | undefined;
  const contextAt = new Map<number, number>();
  env.model.setHandler((request) => {
    if (request.threadKey !== threadId) throw new Error(`unexpected thread ${request.threadKey}`);
    served += 1;
    const bytes = inputBytes(request.input);
    contextAt.set(served, bytes);
    const missing = targetBytes - bytes;
    if (measureFrom === undefined && missing > CALL_FRAMING_BYTES * 2) {
      // `head -c n` outputs exactly n bytes, so the last growth step lands near the target.
      const calls = Math.min(MAX_CALLS_PER_STEP, Math.ceil(missing / (CHUNK_BYTES + CALL_FRAMING_BYTES)));
      const each = Math.max(1, Math.min(CHUNK_BYTES, Math.floor(missing / calls) - CALL_FRAMING_BYTES));
      return respond(Array.from({ length: calls }, () => shellCall(['head', '-c', String(each), CHUNK_FILE])));
    }
    measureFrom ??= served;
    return served < measureFrom + steps ? respond(updatePlanCall(PLAN)) : respond(assistantMessage('measured'));
  });
  const settings = env.settings({
    // No compaction: the conversation must stay at its size while it is measured.
    context: { windowTokens: 10_000_000, autoCompactTokens: 9_000_000, compaction: 'local', recentUserMessageTokens: 20_000, stepsPerRun: null },
  });
  const turn = await startThread(env.client, { threadId, settings, text: `grow the context to ${targetBytes} bytes, then plan`, taskQueue: env.taskQueue });
  const result = await awaitProgress(env, `history cost at ${label(targetBytes)}`, env.client.workflow.getHandle(turn.turnWorkflowId).result() as Promise<TurnResult>);
  await env.client.workflow.getHandle(sessionWorkflowId(threadId)).terminate('benchmark done');
  if (result.status !== 'completed' || measureFrom === undefined) throw new Error(`history-cost turn ended ${result.status}: ${result.error?.message ?? ''}`);

  const runs = await fetchRuns(env.client, turn.turnWorkflowId);
  const bytes = bytesPerStep(runs);
  const events = eventsPerStep(runs);
  const measured = Array.from({ length: steps }, (_, i) => measureFrom! + i);
  return {
    targetBytes,
    growthSteps: measureFrom - 1,
    contextBytes: measured.map((s) => contextAt.get(s) ?? 0),
    historyBytes: measured.map((s) => bytes[s - 1]),
    historyEvents: measured.map((s) => events[s - 1]),
  };
}

function label(bytes: number): string {
  return bytes >= 1_000_000 ? `${bytes / 1_000_000} MB` : `${bytes / 1_000} KB`;
}

/** Runs benchmark 3 and returns its section. */
export async function runHistoryCostBench(options: HistoryCostOptions = {}): Promise<BenchSection> {
  const sizes = options.sizes ?? [10_000, 100_000, 1_000_000];
  const steps = options.steps ?? 20;
  const env = await startBenchEnv();
  const results: SizeResult[] = [];
  try {
    await writeFile(path.join(env.workspace, CHUNK_FILE), chunkText(CHUNK_BYTES));
    for (const size of sizes) {
      results.push(await measureSize(env, size, steps));
      process.stderr.write(`history-cost: ${label(size)} measured\n`);
    }
  } finally {
    await env.close();
  }
  const figures: Figure[] = [];
  const notes: string[] = [];
  for (const r of results) {
    const inline = r.contextBytes.map((c) => 2 * c);
    const name = label(r.targetBytes);
    figures.push(
      figure(`${name}: context (request input) at the measured steps`, 'bytes', r.contextBytes),
      figure(`${name}: Unroll history per step`, 'bytes', r.historyBytes),
      figure(`${name}: Unroll history events per step`, 'events', r.historyEvents),
      figure(`${name}: transcript inline (computed) per step`, 'bytes', inline),
      figure(`${name}: inline / Unroll`, 'ratio', inline.map((b, i) => b / r.historyBytes[i])),
    );
    const median = (values: number[]) => figure('', '', values).median;
    notes.push(
      `${name}: grown in ${r.growthSteps} step(s) of \`head -c\` calls; at this size 50 MB of history (Temporal's limit per run) holds about ` +
        `${Math.floor(HISTORY_LIMIT_BYTES / median(r.historyBytes))} Unroll steps vs. ${Math.floor(HISTORY_LIMIT_BYTES / median(inline))} with the transcript inline` +
        payloadRemark(median(r.contextBytes)) +
        '.',
    );
  }
  notes.unshift(
    `"runs" here are the ${steps} measured steps of one turn per size (one update_plan call each, after the growth steps); each figure is the median, min and max over those steps.`,
    'Unroll history per step = the encoded size of every turn-workflow history event from one runInference scheduled to the next (inference + tool activity + workflow tasks), read back from the server over all runs of the turn.',
    'Inline (computed) = 2 × the request input bytes of that step: the inference activity\'s input would carry the whole transcript and its result the transcript with the step\'s output appended. ' +
      'Event framing, settings and the tool activity are left out, so it is a lower bound; the number of events per step is the same either way.',
    'By bytes alone a run holds thousands of Unroll steps; its event limit (51,200 per run) comes first, and a turn continues-as-new when Temporal suggests it, long before either.',
    'Context size = JSON bytes of the request `input` (the conversation); instructions and tool specs add a constant few KB per request and are not counted.',
  );
  return { id: 'history-cost', title: `History cost per step against context size (${steps} measured steps per size)`, figures, notes };
}

/** Where one inline payload of `bytes` stands against Temporal's payload size checks (warning at 512 KB, error at 2 MB). */
function payloadRemark(bytes: number): string {
  if (bytes > PAYLOAD_LIMIT_BYTES) return '; each inline payload would also exceed the 2 MB payload limit';
  if (bytes > PAYLOAD_WARN_BYTES) return `; each inline payload (≈ ${Math.round(bytes / 1024)} KB) would be past the 512 KB payload warning size, at ${Math.round((100 * bytes) / PAYLOAD_LIMIT_BYTES)}% of the 2 MB limit`;
  return '';
}

/** Printable text of exactly `bytes` bytes, in 60-character lines. */
function chunkText(bytes: number): string {
  const line = `${'lorem ipsum dolor sit amet consectetur adipiscing elit sed do'.slice(0, 59)}\n`;
  return line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes);
}

if (require.main === module) {
  const sizes = process.argv[2]?.split(',').map((kb) => Number(kb) * 1_000);
  const steps = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  runHistoryCostBench({ sizes, steps }).then(
    (section) => process.stdout.write(sectionMarkdown(section)),
    (err: unknown) => {
      process.stderr.write(`history-cost benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
