/**
 * What each of Unroll's dev server dynamic config values (src/temporal/dynamic-config.ts)
 * buys, measured: the engine floor (two empty activities per step) on a fresh
 * `temporal server start-dev` with the CLI's defaults, with each value alone, and with
 * all of them, interleaved run by run so the machine's load hits every variant alike.
 * Each run reads Temporal's own metrics (`--metrics-port`) around the measurement: the
 * transfer queue's load latency, activities dispatched through matching, tasks
 * forwarded between partitions, visibility lag, the shard lock.
 *
 *   npm run bench:dev-server                      # 3 runs, writes bench/results/dev-server-limits.md
 *   node dist/bench/dev-server-limits.js [runs]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { DEV_SERVER_DYNAMIC_CONFIG, dynamicConfigArgs, type DynamicConfigSetting } from '../src/temporal/dynamic-config';
import { DEV_SERVER_SQLITE_PRAGMAS } from '../src/temporal/dev-server';
import { findTemporalCli } from '../src/temporal/temporal-cli';
import { unusedLoopbackPort } from '../test/support/ports';
import { startFloorWorker, runFloor } from './floor/floor-worker';
import { measureFloor, type FloorMeasurement } from './floor/measure-floor';
import { figure, sectionMarkdown, type BenchSection, type Figure } from './report';

const repoRoot = path.resolve(__dirname, '..', '..');

interface Variant {
  readonly name: string;
  readonly settings: readonly DynamicConfigSetting[];
  /** A SQLite file (as the CLI's server has) with these `--sqlite-pragma` values; absent: in memory. */
  readonly file?: { readonly pragmas: readonly string[] };
}

/** CLI defaults, the values that change something on their own (partitions go together), all of them. */
function variants(): Variant[] {
  const byKey = (prefix: string) => DEV_SERVER_DYNAMIC_CONFIG.filter((s) => s.key.startsWith(prefix));
  return [
    { name: 'CLI defaults', settings: [] },
    { name: '+ transferProcessorMaxPollRPS', settings: byKey('history.transferProcessorMaxPollRPS') },
    { name: '+ one task-queue partition', settings: byKey('matching.numTaskqueue') },
    { name: "Unroll's dynamic config", settings: DEV_SERVER_DYNAMIC_CONFIG },
    // The server `exec` starts keeps its state in a file: SQLite's own defaults, then Unroll's pragmas.
    { name: "Unroll's dynamic config, file database, SQLite defaults", settings: DEV_SERVER_DYNAMIC_CONFIG, file: { pragmas: [] } },
    { name: "Unroll's dynamic config, file database, Unroll's pragmas", settings: DEV_SERVER_DYNAMIC_CONFIG, file: { pragmas: DEV_SERVER_SQLITE_PRAGMAS } },
  ];
}

async function measureVariant(cliPath: string, variant: Variant): Promise<FloorMeasurement> {
  const metricsPort = await unusedLoopbackPort();
  const dir = variant.file ? await mkdtemp(path.join(os.tmpdir(), 'unroll-bench-db-')) : undefined;
  const server = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cliPath },
      ip: '127.0.0.1',
      ...(dir ? { dbFilename: path.join(dir, 'temporal.db') } : {}),
      extraArgs: [
        '--log-level', 'error', '--metrics-port', String(metricsPort), ...dynamicConfigArgs(variant.settings),
        ...(variant.file?.pragmas ?? []).flatMap((pragma) => ['--sqlite-pragma', pragma]),
      ],
    },
  });
  const address = server.connection.options.address;
  const native = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const worker = await startFloorWorker(native);
    try {
      await runFloor(client, worker, 20); // warm-up: JIT, connections, workflow cache
      return await measureFloor({ client, worker, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, namespace: 'default' });
    } finally {
      await worker.stop();
    }
  } finally {
    await connection.close();
    await native.close();
    await server.teardown();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/** Measures every variant `runs` times, interleaved; returns the section. */
export async function runDevServerLimitsBench(runs = 3): Promise<BenchSection> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const cliPath = await findTemporalCli({ explicitPath: process.env.UNROLL_TEMPORAL_CLI, toolsDir: path.join(repoRoot, '.tools'), install: true });
  const all = variants();
  const results = new Map<string, FloorMeasurement[]>(all.map((v) => [v.name, []]));
  for (let run = 1; run <= runs; run++) {
    for (const variant of all) {
      const m = await measureVariant(cliPath, variant);
      results.get(variant.name)?.push(m);
      process.stderr.write(`run ${run}/${runs} ${variant.name}: ${m.msPerStep.toFixed(1)} ms/step, burst ${m.burstStepsPerSecond.toFixed(1)} steps/s, WFT load ${m.workflowTaskLoadMs.toFixed(1)} ms\n`);
    }
  }
  const figures: Figure[] = [];
  const defaults = results.get('CLI defaults') ?? [];
  for (const variant of all) {
    const ms = results.get(variant.name) ?? [];
    const of = (pick: (m: FloorMeasurement) => number) => ms.map(pick);
    figures.push(
      figure(`${variant.name}: floor per step, 1 session`, 'ms/step', of((m) => m.msPerStep)),
      figure(`${variant.name}: floor / CLI defaults (same run)`, 'ratio', ms.map((m, i) => m.msPerStep / defaults[i].msPerStep)),
      figure(`${variant.name}: workflow task load latency, 1 session`, 'ms', of((m) => m.workflowTaskLoadMs)),
      figure(`${variant.name}: new session, start → result of a 1-step workflow`, 'ms', of((m) => m.newSessionMs)),
      figure(`${variant.name}: burst of 20 sessions`, 'steps/s', of((m) => m.burstStepsPerSecond)),
      figure(`${variant.name}: first workflow task schedule-to-start, burst`, 'ms', of((m) => m.burstFirstTaskMs)),
      figure(`${variant.name}: workflow task load latency, burst`, 'ms', of((m) => m.burstWorkflowTaskLoadMs)),
      figure(`${variant.name}: activities dispatched via matching`, 'per step', of((m) => m.activityTransferTasksPerStep)),
      figure(`${variant.name}: tasks/polls forwarded between partitions, burst`, 'count', of((m) => m.burstForwarded)),
      figure(`${variant.name}: visibility task load latency, burst`, 'ms', of((m) => m.burstVisibilityLoadMs)),
      figure(`${variant.name}: UpdateWorkflowExecution persistence latency`, 'ms', of((m) => m.updateExecutionMs)),
      figure(`${variant.name}: shard lock wait, burst`, 'ms', of((m) => m.burstShardLockMs)),
    );
  }
  return {
    id: 'dev-server-limits',
    title: 'Dev server dynamic config: the engine floor with and without each value',
    figures,
    notes: [
      `The file-database variants keep the server's state in a SQLite file on this machine's disk, as the server \`exec\` starts does (\`--db-filename\`); Unroll's pragmas: ${DEV_SERVER_SQLITE_PRAGMAS.map((p) => `\`${p}\``).join(', ')}.`,
      `Each run starts a fresh \`temporal server start-dev\` per variant (one history shard) with \`--metrics-port\`, a floor worker (two empty activities per step, TypeScript SDK), one warm-up workflow, then: one floor workflow of 100 steps alone, then 10 one-step floor workflows one after the other (new sessions), then 20 floor workflows of 20 steps at once. ${runs} runs, variants interleaved within each run; ratios are taken within a run.`,
      'Load latency = Temporal\'s task_latency_load (a task being due → the queue reader reading it); "via matching" = TransferActiveTaskActivity tasks (0 when activities run eagerly); forwarded = the matching service\'s `forwarded` counter; shard lock = semaphore_latency{operation="ShardInfo"}.',
      `Values: ${DEV_SERVER_DYNAMIC_CONFIG.map((s) => `${s.key}=${JSON.stringify(s.value)}`).join(', ')}.`,
      `This machine: ${os.availableParallelism()} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')} at the end.`,
    ],
  };
}

if (require.main === module) {
  const runs = Number(process.argv[2] ?? 3);
  runDevServerLimitsBench(runs).then(
    async (section) => {
      const markdown = [
        '# Dev server limits',
        '',
        `Command: \`npm run bench:dev-server\` (or \`node dist/bench/dev-server-limits.js ${runs}\`) · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · Node ${process.version}`,
        '',
        sectionMarkdown(section),
      ].join('\n');
      const out = path.join(repoRoot, 'bench', 'results');
      await mkdir(out, { recursive: true });
      await writeFile(path.join(out, 'dev-server-limits.md'), markdown);
      await writeFile(path.join(out, 'dev-server-limits.json'), `${JSON.stringify(section, null, 2)}\n`);
      process.stdout.write(markdown);
    },
    (err: unknown) => {
      process.stderr.write(`dev-server limits benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
