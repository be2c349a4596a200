/**
 * Benchmark: what a workspace checkpoint costs (issue 12). On a generated workspace of
 * 10,000 files / 100 MiB (./checkpoint-workspace.ts) it takes the first checkpoint, then
 * runs steps that each edit one file and checkpoint, and reports per step the time and
 * the bytes the store grew by, the cost of a step that changed nothing, and restore
 * times: a checkout of the latest checkpoint into an empty directory on a "new host" (a
 * fresh shadow-repository root, so every bundle comes from the store) and resets of the
 * existing workspace. It runs once on the file store and once on PostgreSQL.
 *
 *   npm run bench:checkpoints              # writes bench/results/checkpoints.md and .json
 *   node dist/bench/checkpoints.js [steps] [files] [MiB]
 *
 * PostgreSQL: `UNROLL_TEST_PG_URL` when set (a fresh database on that cluster), else a
 * private cluster started here (test/support/postgres.ts); without the server binaries
 * only the file store is measured, and the notes say so.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { checkoutCheckpoint, DEFAULT_CHECKPOINT_SETTINGS, resetWorkspace, snapshotWorkspace, type CheckpointOutcome } from '../src/checkpoints';
import { checkStore, openStore, type OpenedStore } from '../src/store';
import { launcherPid } from '../src/tools/launcher';
import { freshDatabase, startPostgres, stopPostgres, type PostgresCluster } from '../test/support/postgres';
import { DEFAULT_SHAPE, editOneFile, generateWorkspace, seededRandom, type WorkspaceShape } from './checkpoint-workspace';
import { figure, percentile, sectionMarkdown, type BenchSection, type Figure } from './report';

/** Options of {@link runCheckpointsBench}. */
export interface CheckpointsBenchOptions {
  /** Steps, each editing one file (default 100). */
  readonly steps?: number;
  /** Steps that change nothing (default 20). */
  readonly unchangedSteps?: number;
  /** Restores of each kind (default 3). */
  readonly restores?: number;
  readonly shape?: WorkspaceShape;
}

/** What one store measured. */
interface StoreRun {
  readonly kind: string;
  firstMs: number;
  firstStoreBytes: number;
  readonly stepMs: number[];
  /** CPU time of the steps (this process plus the git processes it ran), per step; empty off Linux. */
  readonly stepCpuMs: number[];
  readonly stepStoreBytes: number[];
  readonly sourceStepStoreBytes: number[];
  readonly largeStepStoreBytes: number[];
  readonly unchangedMs: number[];
  readonly unchangedStoreBytes: number[];
  readonly checkoutMs: number[];
  readonly resetBackMs: number[];
  readonly resetForwardMs: number[];
}

const THREAD = 'bench-checkpoints';

function created(outcome: CheckpointOutcome, what: string): Extract<CheckpointOutcome, { kind: 'created' }> {
  if (outcome.kind !== 'created') throw new Error(`checkpoint bench: ${what} gave ${JSON.stringify(outcome)}, not a new checkpoint`);
  return outcome;
}

/** Bytes of every file under `dir`. */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

async function measureStore(opened: OpenedStore, storedBytes: () => Promise<number>, scratch: string, options: Required<CheckpointsBenchOptions>): Promise<StoreRun> {
  const { store } = opened;
  const ws = path.join(scratch, 'workspace');
  const hostA = path.join(scratch, 'host-a');
  const generated = await generateWorkspace(ws, options.shape);
  const run: StoreRun = {
    kind: opened.kind,
    firstMs: 0,
    firstStoreBytes: 0,
    stepMs: [],
    stepCpuMs: [],
    stepStoreBytes: [],
    sourceStepStoreBytes: [],
    largeStepStoreBytes: [],
    unchangedMs: [],
    unchangedStoreBytes: [],
    checkoutMs: [],
    resetBackMs: [],
    resetForwardMs: [],
  };
  const snap = async (previous: string | null, label: string) => {
    const before = await storedBytes();
    const cpuBefore = cpuMs();
    const started = performance.now();
    const outcome = await snapshotWorkspace({ store, root: hostA, threadId: THREAD, workspace: ws, previous, settings: DEFAULT_CHECKPOINT_SETTINGS, label });
    const ms = performance.now() - started;
    const cpu = cpuBefore === null ? null : cpuMs()! - cpuBefore;
    return { outcome, ms, cpu, storeBytes: (await storedBytes()) - before };
  };

  const first = await snap(null, 'step 1.1');
  const firstId = created(first.outcome, 'the first checkpoint').id;
  run.firstMs = first.ms;
  run.firstStoreBytes = first.storeBytes;
  process.stderr.write(`checkpoints: ${opened.kind}: first checkpoint ${Math.round(first.ms)} ms, ${(first.storeBytes / 2 ** 20).toFixed(1)} MiB stored\n`);

  const rand = seededRandom(7);
  let latest = firstId;
  const ids = [firstId];
  for (let step = 0; step < options.steps; step++) {
    const edit = await editOneFile(ws, generated, step, rand);
    const s = await snap(latest, `step 1.${step + 2}`);
    const outcome = created(s.outcome, `step ${step} (edited ${edit.path})`);
    if (outcome.changeCount !== 1) throw new Error(`checkpoint bench: step ${step} edited one file but the checkpoint lists ${outcome.changeCount} changes`);
    latest = outcome.id;
    ids.push(latest);
    run.stepMs.push(s.ms);
    if (s.cpu !== null) run.stepCpuMs.push(s.cpu);
    run.stepStoreBytes.push(s.storeBytes);
    (edit.kind === 'source' ? run.sourceStepStoreBytes : run.largeStepStoreBytes).push(s.storeBytes);
  }
  process.stderr.write(`checkpoints: ${opened.kind}: ${options.steps} steps, median ${percentile(run.stepMs, 50).toFixed(1)} ms, p99 ${percentile(run.stepMs, 99).toFixed(1)} ms\n`);
  for (let i = 0; i < options.unchangedSteps; i++) {
    const s = await snap(latest, 'unchanged');
    if (s.outcome.kind !== 'unchanged') throw new Error(`checkpoint bench: an unchanged workspace gave ${JSON.stringify(s.outcome)}`);
    run.unchangedMs.push(s.ms);
    run.unchangedStoreBytes.push(s.storeBytes);
  }

  const middle = ids[Math.floor(ids.length / 2)];
  for (let r = 0; r < options.restores; r++) {
    // A new host: its own shadow-repository root, empty, so every bundle comes from the store.
    const target = path.join(scratch, `checkout-${r}`);
    const started = performance.now();
    await checkoutCheckpoint({ store, root: path.join(scratch, `host-new-${r}`), threadId: THREAD }, latest, target);
    run.checkoutMs.push(performance.now() - started);
    if (r === 0 && (await treeBytes(target)) !== (await treeBytes(ws))) throw new Error('checkpoint bench: the checkout does not hold the workspace\'s bytes');
    await rm(target, { recursive: true, force: true });
    await rm(path.join(scratch, `host-new-${r}`), { recursive: true, force: true });

    // The thread's own workspace, rewound half the steps and brought forward again.
    let t = performance.now();
    await resetWorkspace({ store, root: hostA, threadId: THREAD }, middle, ws);
    run.resetBackMs.push(performance.now() - t);
    t = performance.now();
    await resetWorkspace({ store, root: hostA, threadId: THREAD }, latest, ws);
    run.resetForwardMs.push(performance.now() - t);
  }
  return run;
}

/**
 * CPU milliseconds used so far by this process, the process launcher that starts git
 * (src/tools/launcher.ts), and the child processes either has waited for (Linux:
 * /proc/<pid>/stat, 10 ms ticks), or null elsewhere. On a busy machine this is the figure
 * that does not depend on what else runs.
 */
function cpuMs(): number | null {
  try {
    const ticks = (pid: number | 'self', fields: number[]) => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return fields.reduce((sum, i) => sum + Number(stat[i]), 0) * 10;
    };
    const own = process.cpuUsage();
    const launcher = launcherPid();
    // Fields after the command name: 11/12 utime/stime, 13/14 cutime/cstime.
    return ticks('self', [13, 14]) + (own.user + own.system) / 1000 + (launcher === undefined ? 0 : ticks(launcher, [11, 12, 13, 14]));
  } catch {
    return null;
  }
}

async function fileStoreBytes(dir: string): Promise<number> {
  return treeBytes(dir).catch(() => 0);
}

async function pgStoreBytes(client: Client): Promise<number> {
  const { rows } = await client.query<{ bytes: string }>('SELECT coalesce(sum(octet_length(data)), 0)::bigint AS bytes FROM unroll_objects');
  return Number(rows[0].bytes);
}

/** Runs the benchmark and returns its section. */
export async function runCheckpointsBench(options: CheckpointsBenchOptions = {}): Promise<BenchSection> {
  const opts: Required<CheckpointsBenchOptions> = { steps: options.steps ?? 100, unchangedSteps: options.unchangedSteps ?? 20, restores: options.restores ?? 3, shape: options.shape ?? DEFAULT_SHAPE };
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'unroll-bench-ckpt-'));
  const runs: StoreRun[] = [];
  const notes: string[] = [];
  let cluster: PostgresCluster | undefined;
  try {
    const fileDir = path.join(scratch, 'file', 'home');
    const fileStore = openStore(`file:${path.join(fileDir, 'store')}`, { home: fileDir });
    await checkStore(fileStore);
    runs.push(await measureStore(fileStore, () => fileStoreBytes(path.join(fileDir, 'store', 'objects')), path.join(scratch, 'file'), opts));
    await rm(path.join(scratch, 'file'), { recursive: true, force: true });

    let database: string | undefined;
    try {
      const base = process.env.UNROLL_TEST_PG_URL ?? (cluster = await startPostgres()).url;
      database = await freshDatabase(base, 'unroll_bench_ckpt');
    } catch (err) {
      notes.push(`PostgreSQL was not measured: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}.`);
    }
    if (database) {
      const pg = openStore(database, { home: scratch, source: 'bench' });
      const client = new Client({ connectionString: database });
      try {
        await checkStore(pg);
        await client.connect();
        runs.push(await measureStore(pg, () => pgStoreBytes(client), path.join(scratch, 'pg'), opts));
      } finally {
        await client.end();
        await pg.close();
      }
    }
  } finally {
    if (cluster) await stopPostgres(cluster);
    await rm(scratch, { recursive: true, force: true });
  }
  const figures: Figure[] = runs.flatMap((r) => [
    figure(`${r.kind}: first checkpoint (whole workspace)`, 'ms', [r.firstMs]),
    figure(`${r.kind}: first checkpoint, store growth`, 'bytes', [r.firstStoreBytes]),
    figure(`${r.kind}: step editing one file`, 'ms', r.stepMs),
    { ...figure(`${r.kind}: step editing one file, p99`, 'ms', [percentile(r.stepMs, 99)]), runs: r.stepMs.length },
    ...(r.stepCpuMs.length > 0 ? [figure(`${r.kind}: CPU time per step (this process and its git processes)`, 'ms', r.stepCpuMs)] : []),
    figure(`${r.kind}: store growth per step (all steps)`, 'bytes', r.stepStoreBytes),
    figure(`${r.kind}: store growth per step (a source file edited)`, 'bytes', r.sourceStepStoreBytes),
    figure(`${r.kind}: store growth per step (a large text file edited)`, 'bytes', r.largeStepStoreBytes),
    figure(`${r.kind}: step that changed nothing`, 'ms', r.unchangedMs),
    figure(`${r.kind}: step that changed nothing, store growth`, 'bytes', r.unchangedStoreBytes),
    figure(`${r.kind}: checkout of the latest checkpoint on a new host`, 'ms', r.checkoutMs),
    figure(`${r.kind}: reset of the workspace ${Math.floor(opts.steps / 2)} steps back`, 'ms', r.resetBackMs),
    figure(`${r.kind}: reset of the workspace to the latest again`, 'ms', r.resetForwardMs),
  ]);
  const mib = (opts.shape.bytes / 2 ** 20).toFixed(0);
  return {
    id: 'checkpoints',
    title: `Workspace checkpoints: ${opts.shape.files} files / ${mib} MiB, ${opts.steps} one-file steps`,
    figures,
    notes: [
      `The workspace is generated (deterministic): ${opts.shape.files - opts.shape.largeFiles} source-like text files of 200 B to 12 KB in nested package/module directories, and ${opts.shape.largeFiles} larger files sharing the rest of the ${mib} MiB (half compressible text fixtures, half incompressible binary assets).`,
      'Each step replaces a line in the middle of one file and appends one, then calls snapshotWorkspace (timed: git status, staging, tree, commit, incremental bundle, store writes). Nine steps in ten edit a source file, every tenth a large text fixture (~1 MiB).',
      'Store growth: bytes the store holds after the step minus before (the bundle blob and the checkpoint record; file store: object files on disk; PostgreSQL: octet_length of the objects\' data).',
      `Checkout on a new host: checkoutCheckpoint of the latest checkpoint into an empty directory with an empty shadow-repository root, so all ${opts.steps + 1} bundles are read from the store and applied. Reset: resetWorkspace of the thread's own workspace (its shadow repository already holds every commit) to the checkpoint ${Math.floor(opts.steps / 2)} steps back, then to the latest again.`,
      'The file store fsyncs every object; the PostgreSQL cluster is private, on loopback, with fsync=off (as in the tests).',
      ...notes,
    ],
  };
}

if (require.main === module) {
  const [steps, files, mib] = process.argv.slice(2).map((a) => (a === undefined ? undefined : Number(a)));
  const shape = files === undefined ? DEFAULT_SHAPE : { files, bytes: (mib ?? 100) * 2 ** 20, largeFiles: Math.max(2, Math.round(files / 100)) };
  const loadAtStart = os.loadavg();
  const started = new Date();
  runCheckpointsBench({ steps, shape }).then(
    async (section) => {
      const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');
      const gitVersion = await new Promise<string>((resolve) => execFile('git', ['--version'], (err, out) => resolve(err ? 'unknown' : out.trim())));
      const header = [
        `Command: \`npm run bench:checkpoints\`${process.argv.length > 2 ? ` (node dist/bench/checkpoints.js ${process.argv.slice(2).join(' ')})` : ''} · ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC · took ${Math.round((Date.now() - started.getTime()) / 60000)} min`,
        '',
        `Machine: ${os.availableParallelism()} × ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node.js ${process.version}, ${gitVersion}; load average (1/5/15 min) ${load(loadAtStart)} at the start, ${load(os.loadavg())} at the end.`,
        '',
      ].join('\n');
      const markdown = sectionMarkdown(section);
      const dir = path.resolve(__dirname, '..', '..', 'bench', 'results');
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'checkpoints.md'), `# Checkpoint benchmark\n\n${header}\n${markdown}`);
      await writeFile(path.join(dir, 'checkpoints.json'), `${JSON.stringify(section, null, 2)}\n`);
      process.stdout.write(markdown);
    },
    (err: unknown) => {
      process.stderr.write(`checkpoints benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
