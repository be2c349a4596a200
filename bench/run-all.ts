/**
 * The benchmark suite (issue 7): runs every benchmark section one after the other and
 * writes bench/results/bench.md (a header describing the machine, then one table per
 * section) and bench/results/bench.json (the same sections as data). A section that
 * fails is reported as failed and the others still run; the exit code is then 1.
 *
 *   npm run bench                                  # build, then every section
 *   node dist/bench/run-all.js --only throughput,recovery
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { findTemporalCli } from '../src/temporal/temporal-cli';
import { runCodexComparison } from './codex-comparison';
import { runHistoryCostBench } from './history-cost';
import { runOverheadBench } from './overhead';
import { runRecoveryBench } from './recovery';
import { runReplaySpeedBench } from './replay-speed';
import { sectionMarkdown, type BenchSection } from './report';
import { runThroughputBench } from './throughput';

const run = promisify(execFile);
const repoRoot = path.resolve(__dirname, '..', '..');
const resultsDir = path.join(repoRoot, 'bench', 'results');

/** Every section, in the order they run; `id` is what `--only` takes. */
const SECTIONS: readonly { readonly id: string; readonly run: () => Promise<BenchSection> }[] = [
  { id: 'overhead', run: () => runOverheadBench() },
  { id: 'throughput', run: () => runThroughputBench() },
  { id: 'history-cost', run: () => runHistoryCostBench() },
  { id: 'replay-speed', run: () => runReplaySpeedBench() },
  { id: 'recovery', run: () => runRecoveryBench() },
  { id: 'checkpoints', run: async () => (await import('./checkpoints')).runCheckpointsBench() },
  // Installs the Codex CLI from npm into a temp dir; also writes bench/results/codex-comparison.md.
  { id: 'codex', run: () => runCodexComparison() },
];

/** The machine and software the numbers were measured on. */
interface Machine {
  readonly date: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly loadAverageAtStart: number[];
  readonly platform: string;
  readonly node: string;
  readonly temporalCli: string;
  readonly commit: string;
}

async function describeMachine(): Promise<Machine> {
  return {
    date: new Date().toISOString(),
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    temporalCli: await temporalCliVersion(),
    commit: await gitCommit(),
  };
}

async function temporalCliVersion(): Promise<string> {
  try {
    const cli = await findTemporalCli({ explicitPath: process.env.UNROLL_TEMPORAL_CLI, toolsDir: path.join(repoRoot, '.tools'), install: true });
    return (await run(cli, ['--version'])).stdout.trim();
  } catch (err) {
    return `unknown (${err instanceof Error ? err.message : String(err)})`;
  }
}

async function gitCommit(): Promise<string> {
  try {
    const head = (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot })).stdout.trim();
    const dirty = (await run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot })).stdout.trim() !== '';
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

/** The ids `--only a,b` names; every section when absent. Throws on an unknown id. */
export function selectSections(argv: readonly string[]): string[] {
  const all = SECTIONS.map((s) => s.id);
  const at = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (at < 0) return all;
  const value = argv[at].startsWith('--only=') ? argv[at].slice('--only='.length) : argv[at + 1];
  const ids = (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = ids.filter((id) => !all.includes(id));
  if (ids.length === 0 || unknown.length > 0) {
    throw new RangeError(`--only takes a comma-separated list of ${all.join(', ')}; got "${value ?? ''}"`);
  }
  return all.filter((id) => ids.includes(id));
}

function failedSection(id: string, err: unknown): BenchSection {
  const message = err instanceof Error ? err.message : String(err);
  return { id, title: `${id}: FAILED`, figures: [], notes: [`The benchmark failed: ${message.split('\n')[0]}`] };
}

function header(machine: Machine, ids: readonly string[], seconds: number): string {
  const only = ids.length === SECTIONS.length ? '' : ` -- --only ${ids.join(',')}`;
  return [
    '# Unroll benchmarks',
    '',
    `Command: \`npm run bench${only}\` · ${machine.date.slice(0, 16).replace('T', ' ')} UTC · took ${Math.round(seconds / 6) / 10} min`,
    '',
    '| machine | |',
    '|---|---|',
    `| CPUs | ${machine.cpus} × ${machine.cpuModel} |`,
    `| memory | ${machine.memoryGiB} GiB |`,
    `| load average at start (1/5/15 min) | ${machine.loadAverageAtStart.join(' / ')} |`,
    `| OS | ${machine.platform} |`,
    `| Node.js | ${machine.node} |`,
    `| Temporal CLI | ${machine.temporalCli.replace(/\n/g, ' ')} |`,
    `| commit | ${machine.commit} |`,
    '',
    'Each figure is the median over repeated runs, with the min and max; the notes under each table give the settings.',
    'Everything runs on this one machine: the Temporal dev server (in-memory), the worker(s), the scripted model server and the client.',
    '',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const ids = selectSections(argv);
  const machine = await describeMachine();
  const started = performance.now();
  const sections: BenchSection[] = [];
  let failed = false;
  for (const section of SECTIONS.filter((s) => ids.includes(s.id))) {
    process.stderr.write(`== ${section.id}\n`);
    const sectionStarted = performance.now();
    try {
      sections.push(await section.run());
    } catch (err) {
      failed = true;
      process.stderr.write(`${section.id} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      sections.push(failedSection(section.id, err));
    }
    process.stderr.write(`== ${section.id} took ${Math.round((performance.now() - sectionStarted) / 1000)} s\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  const markdown = [header(machine, ids, seconds), ...sections.map(sectionMarkdown)].join('\n');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(path.join(resultsDir, 'bench.md'), markdown);
  await writeFile(path.join(resultsDir, 'bench.json'), `${JSON.stringify({ machine, seconds: Math.round(seconds), sections }, null, 2)}\n`);
  process.stdout.write(`${markdown}\n`);
  process.stderr.write(`wrote ${path.relative(process.cwd(), path.join(resultsDir, 'bench.md'))} and bench.json\n`);
  return failed ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    },
  );
}
