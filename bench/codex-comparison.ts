/**
 * Unroll next to the real Codex CLI (issue 15). The benchmark installs `@openai/codex`
 * from npm into a temp dir itself, then drives both CLIs with the same scripted
 * Responses server (loopback only; Codex through a config.toml provider with base_url,
 * env_key and wire_api = "responses") on the same scripts, one after the other in one run:
 *
 * - first request: from spawning `exec` to the first model request arriving. Unroll with
 *   its resident worker running (the usual case), and cold (no worker, no Temporal
 *   server: the dev server starts too); Codex has nothing to keep warm.
 * - a 100-step turn of real shell commands (`bash -lc`, four commands in turn): the
 *   time between consecutive model requests (model stream + tool + engine), median and
 *   p99, and the wall time of the whole `exec`.
 *
 * Results: ratios Unroll / Codex, in bench/results/codex-comparison.{md,json}.
 *
 *   npm run build && node dist/bench/codex-comparison.js      # alone
 *   npm run bench -- --only codex                              # as a section of the suite
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { stopResidentWorker } from '../src/client/resident-worker';
import { devServerPidFile, stopDevServer } from '../src/temporal/dev-server';
import { assistantMessage, functionCall, respond, type OutputItem, type ScriptStep } from '../test/support/responses-builders';
import { ScriptedResponsesServer, type RecordedRequest } from '../test/support/responses-server';
import { unusedLoopbackPort } from '../test/support/ports';
import { figure, percentile, type BenchSection, type Figure } from './report';
import { histogramMeanMs, metricsDelta, scrapeMetrics, type MetricSamples } from './server-metrics';

/** One line of where the resident worker's time went during the long turn. */
interface BreakdownRow {
  readonly what: string;
  readonly perStep: number;
  readonly meanMs: number;
}

const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, '..', '..');
const UNROLL_CLI = path.join(repoRoot, 'bin', 'unroll');
/** The Codex release compared against. */
export const CODEX_PACKAGE = '@openai/codex@0.171';
const MODEL = 'gpt-5.1-codex';
/** Steps of the long turn: this many model requests, all but the last answered with a shell call. */
const STEPS = Number(process.env.BENCH_CODEX_STEPS ?? 100);
/** Runs of the first-request measure per variant. */
const FIRST_REQUEST_RUNS = Number(process.env.BENCH_CODEX_RUNS ?? 5);
const COLD_RUNS = Number(process.env.BENCH_CODEX_COLD_RUNS ?? 3);
/** The real commands the long turn runs, in turn. */
const COMMANDS = ['ls -la', 'cat notes.txt', 'wc -l notes.txt', 'echo step >> log.txt'];

/** One CLI under test: how to run `exec` for a prompt, and how its tool calls look. */
interface Contender {
  readonly name: 'unroll' | 'codex';
  exec(prompt: string): { file: string; args: string[]; env: Record<string, string | undefined> };
  /** A model output item that makes this CLI run `command` in a shell. */
  shell(command: string, callId: string): OutputItem;
}

/** What one `exec` run measured. */
interface ExecRun {
  readonly code: number;
  readonly wallMs: number;
  /** Spawn to each model request's arrival (ms). */
  readonly requestsAt: number[];
  readonly stderr: string;
}

async function timedExec(model: ScriptedResponsesServer, contender: Contender, cwd: string, prompt: string, script: (index: number) => ScriptStep): Promise<ExecRun> {
  const seen: RecordedRequest[] = [];
  model.setHandler((request) => {
    seen.push(request);
    return script(seen.length - 1);
  });
  const { file, args, env } = contender.exec(prompt);
  const started = Date.now();
  const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? 1)));
  const wallMs = Date.now() - started;
  if (code !== 0) throw new Error(`${contender.name} exec exited ${code}: ${stderr.slice(-2000)}`);
  return { code, wallMs, requestsAt: seen.map((r) => r.receivedAt.getTime() - started), stderr };
}

/** Installs Codex into `dir` with npm; returns its launcher. */
async function installCodex(dir: string): Promise<string> {
  await run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, CODEX_PACKAGE], { timeout: 600_000 });
  const bin = path.join(dir, 'node_modules', '.bin', 'codex');
  const { stdout } = await run(bin, ['--version']);
  process.stderr.write(`installed ${stdout.trim()} in ${dir}\n`);
  return bin;
}

function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}

/** Everything measured, for the markdown and JSON reports. */
interface Comparison {
  readonly codexVersion: string;
  readonly firstRequestMs: { unrollResident: number[]; unrollCold: number[]; codex: number[] };
  readonly longTurn: Record<'unroll' | 'codex', { stepMs: number[]; wallMs: number; steps: number }>;
  readonly breakdown: BreakdownRow[];
}

/** Runs the comparison; writes bench/results/codex-comparison.{md,json}; returns the suite section. */
export async function runCodexComparison(): Promise<BenchSection> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'unroll-codex-bench-'));
  const model = await ScriptedResponsesServer.start();
  const unrollHome = path.join(root, 'unroll-home');
  const codexHome = path.join(root, 'codex-home');
  const workspace = path.join(root, 'workspace');
  try {
    await Promise.all([unrollHome, codexHome, workspace].map((d) => mkdir(d, { recursive: true })));
    await writeFile(path.join(workspace, 'notes.txt'), 'one\ntwo\nthree\n');
    const codexBin = await installCodex(path.join(root, 'codex'));
    const codexVersion = (await run(codexBin, ['--version'])).stdout.trim();
    await writeFile(path.join(codexHome, 'config.toml'), codexConfig(model.url));
    // The same sandbox and approval settings for both (Codex's file is above).
    await writeFile(path.join(unrollHome, 'config.toml'), SAME_POLICY.join('\n'));
    const address = `127.0.0.1:${await unusedLoopbackPort()}`;
    // The resident worker serves its SDK metrics here: where an Unroll step's time goes.
    const metricsUrl = `http://127.0.0.1:${await unusedLoopbackPort()}/metrics`;
    const base = { PATH: process.env.PATH, HOME: root, LANG: process.env.LANG };
    const unroll: Contender = {
      name: 'unroll',
      exec: (prompt) => ({
        file: process.execPath,
        args: [UNROLL_CLI, 'exec', '--skip-git-repo-check', '--json', prompt],
        env: { ...base, UNROLL_HOME: unrollHome, UNROLL_TEMPORAL_ADDRESS: address, UNROLL_BASE_URL: model.url, UNROLL_MODEL: MODEL, OPENAI_API_KEY: 'bench-key', UNROLL_METRICS_ADDRESS: new URL(metricsUrl).host },
      }),
      // Both are offered Codex's exec_command for this model (gpt-5.1-codex).
      shell: (command, callId) => functionCall('exec_command', { cmd: command }, callId),
    };
    const codex: Contender = {
      name: 'codex',
      exec: (prompt) => ({ file: codexBin, args: ['exec', '--skip-git-repo-check', '--json', prompt], env: { ...base, CODEX_HOME: codexHome, SCRIPTED_API_KEY: 'bench-key' } }),
      shell: (command, callId) => functionCall('exec_command', { cmd: command }, callId),
    };
    const answer = () => respond(assistantMessage('hello'));
    const first = async (c: Contender) => (await timedExec(model, c, workspace, 'say hello', answer)).requestsAt[0];

    // Cold: no worker and no server; the exec starts both.
    const unrollCold: number[] = [];
    for (let i = 0; i < COLD_RUNS; i += 1) {
      await stopUnroll(unrollHome);
      unrollCold.push(await first(unroll));
    }
    // Resident: the worker (and server) the cold runs left behind; one warm-up first.
    await first(unroll);
    const unrollResident: number[] = [];
    const codexFirst: number[] = [];
    for (let i = 0; i < FIRST_REQUEST_RUNS; i += 1) {
      // Interleaved, so a change in the machine's load touches both alike.
      unrollResident.push(await first(unroll));
      codexFirst.push(await first(codex));
    }
    const before = await scrapeMetrics(metricsUrl);
    const unrollLong = await long(model, unroll, workspace);
    const breakdown = workerBreakdown(metricsDelta(before, await scrapeMetrics(metricsUrl)), unrollLong.steps);
    const longTurn = { unroll: unrollLong, codex: await long(model, codex, workspace) };
    if (model.violations.length > 0) throw new Error(`protocol violations: ${model.violations.join('; ')}`);
    const comparison: Comparison = { codexVersion, firstRequestMs: { unrollResident, unrollCold, codex: codexFirst }, longTurn, breakdown };
    await writeResults(comparison);
    return section(comparison);
  } finally {
    await stopUnroll(unrollHome);
    await model.close();
    await rm(root, { recursive: true, force: true });
  }
}

/** One long turn: STEPS model requests, each but the last answered with a shell call. */
async function long(model: ScriptedResponsesServer, contender: Contender, workspace: string): Promise<{ stepMs: number[]; wallMs: number; steps: number }> {
  const script = (i: number): ScriptStep => (i < STEPS - 1 ? respond(contender.shell(COMMANDS[i % COMMANDS.length], `call_${i}`)) : respond(assistantMessage(`done after ${i} commands`)));
  const result = await timedExec(model, contender, workspace, 'run the commands', script);
  const stepMs = result.requestsAt.slice(1).map((at, i) => at - result.requestsAt[i]);
  return { stepMs, wallMs: result.wallMs, steps: result.requestsAt.length };
}

async function stopUnroll(home: string): Promise<void> {
  await stopResidentWorker(home);
  await stopDevServer(devServerPidFile(path.join(home, 'temporal.db')));
}

/** Sandbox and approvals, the same for both CLIs: no sandbox, never ask. */
const SAME_POLICY = ['approval_policy = "never"', 'sandbox_mode = "danger-full-access"', ''];

/**
 * Per step of the long turn, from the resident worker's SDK metrics: each activity type's
 * count and mean execution time, the workflow tasks, and the worker's RPCs.
 */
function workerBreakdown(delta: MetricSamples, steps: number): BreakdownRow[] {
  const rows: BreakdownRow[] = [];
  const labelled = (name: string, label: string): string[] => {
    const values = new Set<string>();
    for (const key of delta.keys()) {
      const m = key.startsWith(`${name}_count{`) ? new RegExp(`${label}="([^"]*)"`).exec(key) : null;
      if (m) values.add(m[1]);
    }
    return [...values].sort();
  };
  // The SDK records these histograms in milliseconds (histogramMeanMs assumes seconds).
  const add = (what: string, name: string, labels: Record<string, string>) => {
    const { count, meanMs } = histogramMeanMs(delta, name, labels);
    if (count > 0) rows.push({ what, perStep: round2(count / steps), meanMs: round2(meanMs / 1000) });
  };
  for (const type of labelled('temporal_activity_execution_latency', 'activity_type')) add(`activity ${type}`, 'temporal_activity_execution_latency', { activity_type: type });
  for (const type of labelled('temporal_workflow_task_execution_latency', 'workflow_type')) add(`workflow task ${type}`, 'temporal_workflow_task_execution_latency', { workflow_type: type });
  for (const op of labelled('temporal_request_latency', 'operation')) add(`RPC ${op}`, 'temporal_request_latency', { operation: op });
  return rows;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function codexConfig(baseUrl: string): string {
  return [
    `model = "${MODEL}"`,
    'model_provider = "scripted"',
    ...SAME_POLICY.slice(0, 2),
    'check_for_update_on_startup = false',
    '',
    '[model_providers.scripted]',
    'name = "scripted"',
    `base_url = "${baseUrl}"`,
    'env_key = "SCRIPTED_API_KEY"',
    'wire_api = "responses"',
    '',
  ].join('\n');
}

function median(samples: readonly number[]): number {
  return figure('m', 'ms', samples).median;
}

function figures(c: Comparison): Figure[] {
  const { unroll, codex } = c.longTurn;
  return [
    figure('first request, Unroll with its resident worker', 'ms', c.firstRequestMs.unrollResident),
    figure('first request, Unroll cold (no worker, no server)', 'ms', c.firstRequestMs.unrollCold),
    figure('first request, Codex', 'ms', c.firstRequestMs.codex),
    figure(`per step, Unroll (${unroll.steps}-request turn)`, 'ms', unroll.stepMs),
    figure(`per step, Codex (${codex.steps}-request turn)`, 'ms', codex.stepMs),
    figure('turn wall time, Unroll', 's', [unroll.wallMs / 1000]),
    figure('turn wall time, Codex', 's', [codex.wallMs / 1000]),
  ];
}

/** The ratios and whether the issue's targets are met. */
function ratios(c: Comparison): { measure: string; unroll: number; codex: number; ratio: number; target: string; met: boolean | null }[] {
  const { unroll, codex } = c.longTurn;
  const resident = median(c.firstRequestMs.unrollResident);
  const codexFirst = median(c.firstRequestMs.codex);
  const cold = median(c.firstRequestMs.unrollCold);
  const p99 = (s: number[]) => percentile(s, 99);
  return [
    { measure: 'first request (median), resident worker', unroll: resident, codex: codexFirst, ratio: ratio(resident, codexFirst), target: '≤ 1.5', met: resident <= 1.5 * codexFirst },
    { measure: 'first request (median), cold', unroll: cold, codex: codexFirst, ratio: ratio(cold, codexFirst), target: '(reported)', met: null },
    { measure: 'per step, median', unroll: median(unroll.stepMs), codex: median(codex.stepMs), ratio: ratio(median(unroll.stepMs), median(codex.stepMs)), target: '≤ 1.0', met: median(unroll.stepMs) <= median(codex.stepMs) },
    { measure: 'per step, p99', unroll: p99(unroll.stepMs), codex: p99(codex.stepMs), ratio: ratio(p99(unroll.stepMs), p99(codex.stepMs)), target: '(reported)', met: null },
    { measure: 'turn wall time', unroll: unroll.wallMs, codex: codex.wallMs, ratio: ratio(unroll.wallMs, codex.wallMs), target: '(reported)', met: null },
  ];
}

function notes(c: Comparison): string[] {
  return [
    `Codex: ${c.codexVersion}, installed from npm (${CODEX_PACKAGE}) into a temp dir by the benchmark; both CLIs talk to the same scripted Responses server on 127.0.0.1, model name ${MODEL}.`,
    `First request: spawn of \`exec\` to the request's arrival at the server; ${FIRST_REQUEST_RUNS} runs each, Unroll and Codex interleaved; cold: ${COLD_RUNS} runs, each after \`worker stop\` and stopping the dev server.`,
    `Long turn: ${STEPS} model requests, ${STEPS - 1} answered with a shell call (${COMMANDS.map((x) => `\`${x}\``).join(', ')} in turn; both get Codex's \`exec_command\` for this model and run \`<shell> -lc <cmd>\`; both with \`sandbox_mode = "danger-full-access"\` and \`approval_policy = "never"\`, so Unroll checkpoints the workspace after the step that writes a file), the last with a message. Per step: time between consecutive model requests.`,
    `Machine load at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')} (1/5/15 min); both ran in the same conditions, one after the other.`,
  ];
}

function section(c: Comparison): BenchSection {
  const rows = ratios(c);
  return {
    id: 'codex',
    title: 'Unroll next to the Codex CLI (same scripted model, same scripts)',
    figures: figures(c),
    notes: [...rows.map((r) => `${r.measure}: Unroll / Codex = ${r.ratio} (${r.unroll} vs ${r.codex} ms), target ${r.target}${r.met === null ? '' : r.met ? ': met' : ': NOT met'}`), ...notes(c)],
  };
}

async function writeResults(c: Comparison): Promise<void> {
  const rows = ratios(c);
  const markdown = [
    '# Unroll next to the Codex CLI',
    '',
    `Command: \`npm run bench -- --only codex\` (or \`node dist/bench/codex-comparison.js\` after \`npm run build\`) · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ${os.availableParallelism()} × ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}`,
    '',
    '| measure | Unroll (ms) | Codex (ms) | Unroll / Codex | target | met |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.measure} | ${r.unroll} | ${r.codex} | ${r.ratio} | ${r.target} | ${r.met === null ? '' : r.met ? 'yes' : 'no'} |`),
    '',
    '| figure | median | min | max | unit | samples |',
    '|---|---|---|---|---|---|',
    ...figures(c).map((f) => `| ${f.measure} | ${f.median} | ${f.min} | ${f.max} | ${f.unit} | ${f.runs} |`),
    '',
    ...notes(c).map((n) => `- ${n}`),
    '',
    `## Where Unroll's steps went (the resident worker's SDK metrics over the long turn)`,
    '',
    '| what | per step | mean |',
    '|---|---|---|',
    ...c.breakdown.map((r) => `| ${r.what} | ${r.perStep} | ${r.meanMs} ms |`),
    '',
  ].join('\n');
  const out = path.join(repoRoot, 'bench', 'results');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'codex-comparison.md'), markdown);
  await writeFile(path.join(out, 'codex-comparison.json'), `${JSON.stringify({ ...c, ratios: rows }, null, 2)}\n`);
  process.stdout.write(`${markdown}\n`);
}

if (require.main === module) {
  runCodexComparison().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`codex comparison failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
