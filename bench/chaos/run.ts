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
import { ChaosDevServer, killMarkedProcesses } from './cluster';
import { analyseLedger, readCallResults, readLedger, transcriptFacts, type TranscriptFacts } from './executions';
import { hashTree, treeDifferences, verifyStore } from './integrity';
import { ChaosModel } from './model';
import { runPhase, type PhaseContext, type PhaseName, type PhaseResult } from './phase';
import { planChaosRun } from './plan';
import type { ChaosOptions } from './options';
import { buildReport, type ChaosReport, type SessionCheck } from './report';
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
  const cleanup = async () => {
    await killMarkedProcesses(runMarker);
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
    const phase = (name: PhaseName, concurrency: number): PhaseContext => ({
      name, dir: path.join(dir, name), plan, client, server: server!, model: model!, runMarker, concurrency, sessionDeadlineMs: options.sessionDeadlineMs, log,
    });
    log(`baseline: ${plan.sessions.length} sessions without faults`);
    const baseline = await runPhase(phase('baseline', Math.max(options.concurrency, 4)));
    await killMarkedProcesses(runMarker);
    log(`chaos: ${plan.sessions.length} sessions with faults, ${options.concurrency} at a time`);
    const chaos = await runPhase(phase('chaos', options.concurrency));
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
    const chaosChecks = await checkSessions(chaos, baselineChecks);
    const outputsOf = (checks: SessionCheck[]) => new Map(checks.flatMap((c) => [...(c.facts?.outputs ?? [])]));
    return buildReport({
      options,
      plan,
      baseline: { phase: baseline, checks: baselineChecks, ledger: analyseLedger(await readLedger(baseline.ledger), outputsOf(baselineChecks)) },
      chaos: { phase: chaos, checks: chaosChecks, ledger: analyseLedger(await readLedger(chaos.ledger), outputsOf(chaosChecks)) },
      targeted: { set: options.targeted, scenarios: targeted, wallMs: targetedMs },
      store: await verifyStore(path.join(chaos.home, 'store'), chaos.sessions.flatMap((s) => (s.head ? [s.head] : []))),
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
async function checkSessions(phase: PhaseResult, baseline?: SessionCheck[]): Promise<SessionCheck[]> {
  const store = new TranscriptStore(new FsStoreBackend(path.join(phase.home, 'store')));
  const results = await readCallResults(path.join(phase.home, 'store'));
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
