/**
 * A whole chaos run: the fault-free baseline, then the same scripts with faults, then
 * the targeted scenarios (./targeted.ts), then the verdict. Everything it starts (dev server, scripted model, workers, the commands
 * they ran) is stopped before it returns, whether the run succeeded or not.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { FsStoreBackend, TranscriptStore } from '../../src/store';
import { openStore } from '../../src/store/open-store';
import { restartPostgres, startPostgres, stopPostgres, type PostgresCluster } from '../../test/support/postgres';
import { ChaosDevServer, killMarkedProcesses } from './cluster';
import { analyseLedger, readCallResults, readLedger, transcriptFacts, type TranscriptFacts } from './executions';
import { checkHostPinning, HostFleet } from './hosts';
import { hashTree, treeDifferences, verifyStore } from './integrity';
import { readPgCallResults, verifyPgStore } from './pg-integrity';
import { ChaosModel } from './model';
import { runPhase, type FleetContext, type PhaseContext, type PhaseName, type PhaseResult } from './phase';
import { planChaosRun } from './plan';
import type { ChaosOptions } from './options';
import { buildReport, type ChaosReport, type HostsReport, type SessionCheck } from './report';
import { targetedScenarios } from './scenarios';
import { runTargeted } from './targeted';

export { DEFAULT_CHAOS_OPTIONS, type ChaosOptions } from './options';

/** How long a targeted scenario's turn may take (at most the session deadline). */
const TARGETED_DEADLINE_MS = 180_000;

const activeCleanups = new Set<() => Promise<void>>();

/** Stops whatever runs in progress started (for a Ctrl-C in the CLI). */
export async function stopActiveRuns(): Promise<void> {
  await Promise.all([...activeCleanups].map((cleanup) => cleanup()));
}

/** Runs both phases and verifies the result; see the module comment. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const begun = Date.now();
  const stamp = () => `[${((Date.now() - begun) / 1000).toFixed(1).padStart(6)} s]`;
  const log = (line: string) => options.log(`${stamp()} ${line}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-chaos-'));
  const runMarker = `chaos${options.seed}-${randomUUID().slice(0, 8)}`;
  const plan = planChaosRun(options);
  let server: ChaosDevServer | undefined;
  let model: ChaosModel | undefined;
  let connection: Connection | undefined;
  let postgres: PostgresCluster | undefined;
  let fleet: HostFleet | undefined;
  const cleanup = async () => {
    await fleet?.stop().catch(() => undefined);
    await killMarkedProcesses(runMarker);
    if (postgres) await stopPostgres(postgres).catch(() => undefined);
    await server?.stop().catch(() => undefined);
    await model?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    if (!options.keepWorkDir) await rm(dir, { recursive: true, force: true });
  };
  activeCleanups.add(cleanup);
  try {
    server = await ChaosDevServer.start(dir, process.env);
    model = await ChaosModel.start();
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    log(`run dir ${dir}; Temporal dev server ${server.address}; scripted model ${model.url}`);
    const twoHosts = options.hosts === 2;
    if (twoHosts) {
      // In the OS temp dir: the run dir is private to root, and the server runs as the postgres user.
      postgres = await startPostgres();
      log(`two hosts: PostgreSQL on port ${postgres.port}`);
    }
    const phase = (name: PhaseName, concurrency: number, fleetContext?: FleetContext): PhaseContext => ({
      name, dir: path.join(dir, name), plan, client, server: server!, model: model!, runMarker, concurrency, sessionDeadlineMs: options.sessionDeadlineMs, log, fleet: fleetContext,
    });
    log(`baseline: ${plan.sessions.length} sessions without faults`);
    const baseline = await runPhase(phase('baseline', Math.max(options.concurrency, 4)));
    await killMarkedProcesses(runMarker);
    let fleetContext: FleetContext | undefined;
    if (postgres) {
      const cluster = postgres;
      const sharedQueue = `${runMarker}-hosts`;
      fleet = await HostFleet.start(
        path.join(dir, 'chaos'),
        { taskQueue: sharedQueue, address: server.address, ledger: path.join(dir, 'chaos', 'ledger.log'), runMarker },
        cluster.url,
        log,
      );
      const n = options.dbRestarts ?? 1;
      // Evenly between the 20 % and 80 % marks, off the dev server's points only by chance.
      const dbRestartsAt = Array.from({ length: n }, (_, i) => 0.2 + (0.6 * (i + 1)) / (n + 1));
      fleetContext = { fleet, sharedQueue, storeUrl: cluster.url, dbRestartsAt, restartDatabase: () => restartPostgres(cluster) };
      log(`chaos: hosts A and B (${sharedQueue}), sessions pinned alternately; ${n} PostgreSQL restarts`);
    }
    log(`chaos: ${plan.sessions.length} sessions with faults, ${options.concurrency} at a time`);
    const chaos = await runPhase(phase('chaos', options.concurrency, fleetContext));
    const fleetKills = fleet ? { ...fleet.kills } : null;
    await fleet?.stop();
    fleet = undefined;
    let strays = await killMarkedProcesses(runMarker);
    const scenarios = targetedScenarios(options.targeted);
    if (scenarios.length > 0) log(`targeted: ${scenarios.length} scenarios (${options.targeted}), ${options.concurrency} at a time`);
    const targetedBegun = Date.now();
    const targeted = await runTargeted(
      { dir: path.join(dir, 'targeted'), client, server, model, runMarker, deadlineMs: Math.min(options.sessionDeadlineMs, TARGETED_DEADLINE_MS), log },
      scenarios,
      options.concurrency,
    );
    const targetedMs = Date.now() - targetedBegun;
    strays += await killMarkedProcesses(runMarker);
    log(`verifying (${strays} leftover processes of killed workers stopped)`);
    const baselineChecks = await checkSessions(baseline);
    const chaosChecks = await checkSessions(chaos, baselineChecks, dir);
    let hosts: HostsReport | null = null;
    if (fleetContext && fleetKills) {
      const pinned = chaos.sessions.map((s) => ({ threadId: s.threadId, host: s.host ?? 'A', turns: s.turns.length + (s.wait ? 1 : 0) }));
      hosts = { ...(await checkHostPinning(client, fleetContext.sharedQueue, pinned)), workerKillsByHost: fleetKills, dbRestarts: chaos.dbRestarts };
    }
    const storeReport = chaos.storeUrl
      ? await verifyPgStore(chaos.storeUrl, chaos.sessions.flatMap((s) => (s.head ? [s.head] : [])), dir)
      : await verifyStore(path.join(chaos.home, 'store'), chaos.sessions.flatMap((s) => (s.head ? [s.head] : [])));
    const outputsOf = (checks: SessionCheck[]) => new Map(checks.flatMap((c) => [...(c.facts?.outputs ?? [])]));
    return buildReport({
      options,
      plan,
      baseline: { phase: baseline, checks: baselineChecks, ledger: analyseLedger(await readLedger(baseline.ledger), outputsOf(baselineChecks)) },
      chaos: { phase: chaos, checks: chaosChecks, ledger: analyseLedger(await readLedger(chaos.ledger), outputsOf(chaosChecks)) },
      targeted: { set: options.targeted, scenarios: targeted, wallMs: targetedMs },
      store: storeReport,
      hosts,
      providerFaults: model.injected,
      protocolViolations: [...model.violations],
      modelAnomalies: [...model.anomalies],
      requests: model.requestCount,
      resentRequests: model.resent,
      wallMs: Date.now() - begun,
      workDir: options.keepWorkDir ? dir : null,
    });
  } finally {
    activeCleanups.delete(cleanup);
    await cleanup();
  }
}

/** Reads each session's final transcript (through a fresh store) and hashes its workspace. */
async function checkSessions(phase: PhaseResult, baseline?: SessionCheck[], home = phase.home): Promise<SessionCheck[]> {
  // A fresh store: nothing comes from a cache filled while the run was writing.
  const opened = phase.storeUrl ? openStore(phase.storeUrl, { home, poolSize: 2 }) : null;
  const store = opened?.store ?? new TranscriptStore(new FsStoreBackend(path.join(phase.home, 'store')));
  const results = phase.storeUrl ? await readPgCallResults(phase.storeUrl) : await readCallResults(path.join(phase.home, 'store'));
  try {
    return await checkEach(phase, store, results, baseline);
  } finally {
    await opened?.close();
  }
}

async function checkEach(phase: PhaseResult, store: TranscriptStore, results: Awaited<ReturnType<typeof readCallResults>>, baseline?: SessionCheck[]): Promise<SessionCheck[]> {
  const checks: SessionCheck[] = [];
  for (const [i, run] of phase.sessions.entries()) {
    let facts: TranscriptFacts | null = null;
    let transcriptError: string | null = null;
    try {
      facts = transcriptFacts(run.plan, (await store.loadTranscript(run.head)).map((s) => s.item), results);
    } catch (err) {
      transcriptError = err instanceof Error ? err.message : String(err);
    }
    const tree = await hashTree(run.workspace);
    const differences = baseline ? treeDifferences(baseline[i].tree, tree) : [];
    checks.push({ run, facts, transcriptError, tree, differences });
  }
  return checks;
}
