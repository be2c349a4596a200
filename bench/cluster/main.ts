/**
 * The cluster benchmark (not part of `npm run bench`): the engine floor (two empty
 * activities per step) on a production-shaped Temporal server, Temporal 1.29.1 built
 * from the Go module proxy on a private PostgreSQL with 4 history shards, with the
 * release's default dynamic config and with Unroll's (src/temporal/dynamic-config.ts),
 * interleaved run by run. It answers what a cluster operator should set.
 *
 *   npm run bench:cluster            # 3 runs per variant; writes bench/results/cluster.md
 *   node dist/bench/cluster/main.js [runs]
 *
 * Needs Go (the first run builds the server into ~/.cache/unroll-bench, about 6 min) and
 * PostgreSQL's server binaries (see test/support/postgres.ts). PostgreSQL runs with fsync
 * on here (the test helper turns it off), as a production database would.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { DEV_SERVER_DYNAMIC_CONFIG, dynamicConfigFile } from '../../src/temporal/dynamic-config';
import { startPostgres, stopPostgres, type PostgresCluster } from '../../test/support/postgres';
import { runFloor, startFloorWorker } from '../floor/floor-worker';
import { measureFloor, type FloorMeasurement } from '../floor/measure-floor';
import { figure, sectionMarkdown, type BenchSection, type Figure } from '../report';
import { benchCacheDir, ensureServerBinaries, TEMPORAL_SERVER_VERSION, type ServerBinaries } from './server-binaries';
import { registerNamespace, setupSchemas, startCluster, validateDynamicConfig, writeClusterConfig, type ClusterPorts } from './temporal-cluster';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const NAMESPACE = 'default';
const log = (msg: string): void => void process.stderr.write(`[cluster] ${msg}\n`);

interface Variant {
  readonly name: string;
  readonly file: string;
}

/** Production settings for the private PostgreSQL: durable commits, as a real database runs. */
async function makeDurable(pg: PostgresCluster): Promise<void> {
  const client = new PgClient({ connectionString: pg.url });
  await client.connect();
  try {
    await client.query('ALTER SYSTEM SET fsync = on');
    await client.query('ALTER SYSTEM SET full_page_writes = on');
    await client.query('SELECT pg_reload_conf()');
  } finally {
    await client.end();
  }
}

/** The first workflow after a (re)start can meet a namespace cache that has not loaded yet: retry for a minute. */
async function warmUp(run: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await run();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

async function measureVariant(binaries: ServerBinaries, dir: string, ports: ClusterPorts, variant: Variant): Promise<FloorMeasurement> {
  await writeFile(path.join(dir, 'dynamic-config.yaml'), variant.file);
  const server = await startCluster(binaries, dir, ports, path.join(dir, 'server.log'));
  try {
    await registerNamespace(server.address, NAMESPACE);
    const native = await NativeConnection.connect({ address: server.address });
    const connection = await Connection.connect({ address: server.address });
    try {
      const client = new Client({ connection, namespace: NAMESPACE });
      const worker = await startFloorWorker(native, NAMESPACE);
      try {
        await warmUp(() => runFloor(client, worker, 20));
        return await measureFloor({ client, worker, metricsUrl: server.metricsUrl, namespace: NAMESPACE });
      } finally {
        await worker.stop();
      }
    } finally {
      await connection.close();
      await native.close();
    }
  } finally {
    await server.stop();
  }
}

async function main(runs: number): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const binaries = await ensureServerBinaries(benchCacheDir(), log);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-cluster-'));
  log(`working directory ${dir}`);
  const pg = await startPostgres({ database: 'unroll_bench' });
  try {
    await makeDurable(pg);
    await setupSchemas(binaries, pg);
    const dynamicConfigPath = path.join(dir, 'dynamic-config.yaml');
    const ports = await writeClusterConfig(binaries, pg, dir, dynamicConfigPath);
    const unrollFile = dynamicConfigFile();
    await writeFile(dynamicConfigPath, unrollFile);
    const validation = await validateDynamicConfig(binaries, dynamicConfigPath);
    log(`validate-dynamic-config: ${validation.replace(/\n/g, ' | ')}`);
    const variants: Variant[] = [
      // The module's own development-sql.yaml sets nothing (every line is a comment): the defaults.
      { name: 'release defaults', file: '# defaults\n' },
      { name: "Unroll's dynamic config", file: unrollFile },
    ];
    const results = new Map<string, FloorMeasurement[]>(variants.map((v) => [v.name, []]));
    for (let run = 1; run <= runs; run++) {
      for (const variant of variants) {
        const m = await measureVariant(binaries, dir, ports, variant);
        results.get(variant.name)?.push(m);
        log(`run ${run}/${runs} ${variant.name}: ${m.msPerStep.toFixed(1)} ms/step, burst ${m.burstStepsPerSecond.toFixed(1)} steps/s, WFT load ${m.workflowTaskLoadMs.toFixed(1)} ms, activities via matching ${m.activityTransferTasksPerStep.toFixed(2)}/step`);
      }
    }
    await report(results, runs, validation);
  } finally {
    await stopPostgres(pg);
    await rm(dir, { recursive: true, force: true });
  }
}

async function report(results: ReadonlyMap<string, FloorMeasurement[]>, runs: number, validation: string): Promise<void> {
  const figures: Figure[] = [];
  const defaults = results.get('release defaults') ?? [];
  for (const [name, ms] of results) {
    const of = (pick: (m: FloorMeasurement) => number) => ms.map(pick);
    figures.push(
      figure(`${name}: floor per step, 1 session`, 'ms/step', of((m) => m.msPerStep)),
      figure(`${name}: floor / release defaults (same run)`, 'ratio', ms.map((m, i) => m.msPerStep / defaults[i].msPerStep)),
      figure(`${name}: workflow task load latency, 1 session`, 'ms', of((m) => m.workflowTaskLoadMs)),
      figure(`${name}: activities dispatched via matching`, 'per step', of((m) => m.activityTransferTasksPerStep)),
      figure(`${name}: UpdateWorkflowExecution persistence latency`, 'ms', of((m) => m.updateExecutionMs)),
      figure(`${name}: new session, start → result of a 1-step workflow`, 'ms', of((m) => m.newSessionMs)),
      figure(`${name}: burst of 20 sessions`, 'steps/s', of((m) => m.burstStepsPerSecond)),
      figure(`${name}: workflow task load latency, burst`, 'ms', of((m) => m.burstWorkflowTaskLoadMs)),
      figure(`${name}: first workflow task schedule-to-start, burst`, 'ms', of((m) => m.burstFirstTaskMs)),
      figure(`${name}: tasks/polls forwarded between partitions, burst`, 'count', of((m) => m.burstForwarded)),
      figure(`${name}: shard lock wait, burst`, 'ms', of((m) => m.burstShardLockMs)),
    );
  }
  const section: BenchSection = {
    id: 'cluster',
    title: `Production-shaped server: Temporal ${TEMPORAL_SERVER_VERSION} on PostgreSQL, 4 history shards`,
    figures,
    notes: [
      `Temporal server ${TEMPORAL_SERVER_VERSION} built with \`go install go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}\` (schema tool \`cmd/tools/sql\`), all services in one process, config = the module's config/development-postgres12.yaml (numHistoryShards: 4) with private loopback ports; PostgreSQL on this machine (private cluster, fsync on, full_page_writes on).`,
      `Each run restarts the server with one dynamic config file, then runs the floor worker (TypeScript SDK, two empty activities per step): one warm-up workflow, one 100-step floor workflow alone, 10 one-step workflows in a row, then 20 floor workflows of 20 steps at once. ${runs} runs, variants interleaved; ratios within a run.`,
      `Unroll's dynamic config file: ${DEV_SERVER_DYNAMIC_CONFIG.map((s) => `${s.key}=${JSON.stringify(s.value)}`).join(', ')}. \`server validate-dynamic-config\` on it: "${validation.replace(/\n/g, ' ')}".`,
      `This machine: ${os.availableParallelism()} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')} at the end.`,
    ],
  };
  const markdown = [
    '# Cluster benchmark',
    '',
    `Command: \`npm run bench:cluster\` (or \`node dist/bench/cluster/main.js ${runs}\`) · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · Node ${process.version}`,
    '',
    sectionMarkdown(section),
  ].join('\n');
  const out = path.join(repoRoot, 'bench', 'results');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'cluster.md'), markdown);
  await writeFile(path.join(out, 'cluster.json'), `${JSON.stringify(section, null, 2)}\n`);
  process.stdout.write(markdown);
}

main(Number(process.argv[2] ?? 3)).catch((err: unknown) => {
  process.stderr.write(`cluster benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
