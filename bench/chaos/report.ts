/**
 * The verdict of a chaos run, as one JSON object and as the markdown table the CLI
 * prints: sessions, faults by kind, workspaces against the fault-free run, tool-call
 * pairing, repeated commands with their reasons, store integrity, the targeted
 * scenarios (double applications, partial patches, turns stuck without a message),
 * wall time. Anything lost, corrupted, unfinished, applied twice or half, stuck or
 * unexplained goes into `problems`, which makes `ok` false.
 */
import { ALL_FAULT_KINDS, FAULT_LABELS, TOOL_FAULTS, emptyFaultCounts, type FaultCounts, type ToolFault } from './faults';
import type { LedgerReport, RepeatedCommand, TranscriptFacts } from './executions';
import { HOST_IDS, WORKSPACE_ACTIVITIES, type HostCheck, type HostId } from './hosts';
import type { StoreReport, Tree } from './integrity';
import type { PhaseResult, SessionRun } from './phase';
import type { ChaosPlan } from './plan';
import { DEFAULT_CHAOS_OPTIONS, type ChaosOptions } from './options';
import { TARGETED_KINDS, TARGETED_LABELS, type ScenarioResult, type TargetedKind, type TargetedSet } from './targeted';
import { stuckWithoutMessage } from './watch';

/** One session's checks after a phase. */
export interface SessionCheck {
  readonly run: SessionRun;
  readonly facts: TranscriptFacts | null;
  readonly transcriptError: string | null;
  readonly tree: Tree;
  /** Paths that differ from the baseline's workspace (always empty for the baseline itself). */
  readonly differences: string[];
}

/** A phase with its checks. */
export interface CheckedPhase {
  readonly phase: PhaseResult;
  readonly checks: SessionCheck[];
  readonly ledger: LedgerReport;
}

/** Everything {@link buildReport} reads. */
export interface ReportInput {
  readonly options: ChaosOptions;
  readonly plan: ChaosPlan;
  readonly baseline: CheckedPhase;
  readonly chaos: CheckedPhase;
  readonly targeted: { readonly set: TargetedSet; readonly scenarios: readonly ScenarioResult[]; readonly wallMs: number };
  readonly store: StoreReport;
  /** The two-host mode's checks (null in the one-host mode). */
  readonly hosts?: HostsReport | null;
  readonly providerFaults: FaultCounts;
  readonly protocolViolations: string[];
  readonly modelAnomalies: string[];
  readonly requests: number;
  readonly resentRequests: number;
  readonly wallMs: number;
  readonly workDir: string | null;
}

/** The two-host mode's part of the verdict: where the pinned threads' activities ran. */
export interface HostsReport extends HostCheck {
  readonly workerKillsByHost: Record<HostId, number>;
  readonly dbRestarts: number;
}

/** One row of the per-session table. */
export interface SessionRow {
  readonly session: string;
  /** The host the thread was pinned to (two-host mode). */
  readonly host: HostId | null;
  readonly completed: boolean;
  readonly workspaceIdentical: boolean;
  readonly toolCalls: number;
  readonly callsWithOneOutput: number;
  readonly workerKills: number;
  readonly providerFaults: number;
  readonly toolFaults: string[];
  readonly reissued: number;
  readonly seconds: number;
  readonly error: string | null;
}

/** The targeted scenarios' part of the verdict. */
export interface TargetedReport {
  readonly set: TargetedSet;
  readonly wallMs: number;
  readonly scenarios: readonly ScenarioResult[];
  readonly passed: number;
  readonly byKind: Record<TargetedKind, { runs: number; passed: number }>;
  /** Patches checked with `checkPatchApplication` (kills and full workspaces). */
  readonly patchesChecked: number;
  /** Patches left in a state one application cannot give (applied twice, or mangled). */
  readonly doubleApplications: number;
  /** Patches left with some paths patched and others not. */
  readonly partialPatches: number;
  /** Killed patch calls whose model got exactly one output, the `Success.` of an uninterrupted run. */
  readonly patchKills: number;
  readonly patchKillsWithOneSuccess: number;
  /** Killed patch calls a retry finished (`metadata.resumed`). */
  readonly patchKillsResumed: number;
  /** Scenario turns that ended neither finished nor waiting with a reason. */
  readonly stuckWithoutMessage: number;
  /** Host-loss scenarios, and those whose thread moved once and ended with the fault-free run's workspace. */
  readonly hostLosses: number;
  readonly hostLossesSurvived: number;
}

/**
 * Counts of the targeted scenarios, and the problems they make: every failed scenario,
 * and (named on their own, so they cannot hide in a long list) any double application,
 * partial patch or turn stuck without a message.
 */
export function summariseTargeted(set: TargetedSet, scenarios: readonly ScenarioResult[], wallMs = 0): { report: TargetedReport; problems: string[] } {
  const byKind = Object.fromEntries(TARGETED_KINDS.map((k) => [k, { runs: 0, passed: 0 }])) as TargetedReport['byKind'];
  for (const s of scenarios) {
    byKind[s.kind].runs += 1;
    if (s.passed) byKind[s.kind].passed += 1;
  }
  const patches = scenarios.filter((s) => s.patch !== null);
  const kills = scenarios.filter((s) => s.kind === 'patch-kill');
  const report: TargetedReport = {
    set,
    wallMs,
    scenarios,
    passed: scenarios.filter((s) => s.passed).length,
    byKind,
    patchesChecked: patches.length,
    doubleApplications: patches.filter((s) => s.patch!.verdict === 'unexpected').length,
    partialPatches: patches.filter((s) => s.patch!.verdict === 'partial').length,
    patchKills: kills.length,
    patchKillsWithOneSuccess: kills.filter((s) => s.patch && oneSuccess(s.patch)).length,
    patchKillsResumed: kills.filter((s) => s.patch?.resumed).length,
    stuckWithoutMessage: scenarios.filter((s) => s.turn !== null && stuckWithoutMessage(s.turn)).length,
    hostLosses: scenarios.filter((s) => s.kind === 'host-loss').length,
    hostLossesSurvived: scenarios.filter((s) => s.kind === 'host-loss' && s.hostLoss?.moves === 1 && s.hostLoss.workspaceIdentical && s.turn?.end === 'completed').length,
  };
  const problems: string[] = [];
  if (report.doubleApplications > 0) problems.push(`${report.doubleApplications} patches applied twice (or mangled) after a kill`);
  if (report.partialPatches > 0) problems.push(`${report.partialPatches} patches left partly applied`);
  if (report.stuckWithoutMessage > 0) problems.push(`${report.stuckWithoutMessage} targeted turns stuck without a message to the user`);
  for (const s of scenarios) for (const p of s.problems) problems.push(`targeted ${s.name}: ${p}`);
  return { report, problems };
}

function oneSuccess(p: NonNullable<ScenarioResult['patch']>): boolean {
  return p.outputs === 1 && p.successOutputs === 1 && p.requestsWithOutput > 0 && p.requestsWithExpectedOutput === p.requestsWithOutput;
}

/** The run's verdict (written as JSON under bench/results/). */
export interface ChaosReport {
  readonly command: string;
  readonly options: Omit<ChaosOptions, 'log'>;
  readonly date: string;
  readonly ok: boolean;
  readonly problems: string[];
  readonly wallMs: number;
  readonly baselineMs: number;
  readonly chaosMs: number;
  readonly sessionsStarted: number;
  readonly sessionsCompleted: number;
  readonly sessionsFailed: number;
  readonly faults: FaultCounts;
  readonly faultsTotal: number;
  readonly toolFaultsHandled: Record<ToolFault, { ran: number; handledAsExpected: number }>;
  readonly workspacesIdentical: number;
  readonly toolCalls: number;
  readonly toolCallsWithOneOutput: number;
  readonly reissuedAfterInterruption: number;
  /** apply_patch calls of the random phase that a retry finished after a kill (`metadata.resumed`). */
  readonly patchesResumed: number;
  readonly modelRequests: number;
  readonly modelRequestsResent: number;
  readonly commandsExecuted: number;
  readonly repeatedCommands: RepeatedCommand[];
  readonly unexplainedDuplicates: number;
  readonly targeted: TargetedReport;
  /** Turns (random sessions and targeted scenarios) that ended neither finished nor waiting with a reason Temporal shows. */
  readonly turnsStuckWithoutMessage: number;
  /** Turns watched for that: every turn the random phase submitted, and each scenario's. */
  readonly turnsWatched: number;
  readonly store: StoreReport;
  /** The two-host mode (`--hosts 2`): null otherwise. */
  readonly hosts: HostsReport | null;
  readonly protocolViolations: string[];
  readonly sessions: SessionRow[];
  readonly workDir: string | null;
}

/** The command line that reproduces a run with these options (flags left at their default are named only when they are the main three). */
export function reproduceCommand(o: Omit<ChaosOptions, 'log'>): string {
  const d = DEFAULT_CHAOS_OPTIONS;
  const extra: Array<[string, number, number]> = [
    ['--turns', o.turns, d.turns],
    ['--kills', o.killsPerSession, d.killsPerSession],
    ['--provider-faults', o.providerFaultsPerSession, d.providerFaultsPerSession],
    ['--tool-faults', o.toolFaultsPerSession, d.toolFaultsPerSession],
    ['--server-restarts', o.serverRestarts, d.serverRestarts],
  ];
  if ((o.hosts ?? 1) === 2) {
    extra.push(['--hosts', 2, 1]);
    extra.push(['--db-restarts', o.dbRestarts ?? 1, d.dbRestarts ?? 1]);
  }
  const targeted = o.targeted === d.targeted ? '' : o.targeted === 'none' ? ' --no-targeted' : ` --targeted ${o.targeted}`;
  const flags = extra.filter(([, value, fallback]) => value !== fallback).map(([flag, value]) => ` ${flag} ${value}`).join('') + targeted;
  return `npm run chaos -- --sessions ${o.sessions} --seed ${o.seed} --concurrency ${o.concurrency}${flags}`;
}

/** Judges the run; see the module comment. */
export function buildReport(input: ReportInput): ChaosReport {
  const { chaos, baseline, store } = input;
  const { log: _log, ...options } = input.options;
  const faults = emptyFaultCounts();
  for (const kind of ALL_FAULT_KINDS) if (kind.startsWith('provider:')) faults[kind] = input.providerFaults[kind];
  faults['worker-sigkill'] = chaos.phase.sessions.reduce((n, s) => n + s.kills, 0);
  faults['server-restart'] = chaos.phase.serverRestarts;
  faults['database-restart'] = chaos.phase.dbRestarts ?? 0;
  const toolFaultsHandled = Object.fromEntries(TOOL_FAULTS.map((f) => [f, { ran: 0, handledAsExpected: 0 }])) as ChaosReport['toolFaultsHandled'];
  for (const check of chaos.checks) {
    for (const { fault, handled } of check.facts?.toolFaults ?? []) {
      faults[`tool:${fault}`] += 1;
      toolFaultsHandled[fault].ran += 1;
      if (handled) toolFaultsHandled[fault].handledAsExpected += 1;
    }
  }
  const sum = (f: (c: SessionCheck) => number) => chaos.checks.reduce((n, c) => n + f(c), 0);
  const rows = chaos.checks.map((c) => sessionRow(c));
  const targeted = summariseTargeted(input.targeted.set, input.targeted.scenarios, input.targeted.wallMs);
  const stuckSessions = chaos.phase.sessions.filter((s) => s.wait?.state === 'silent').length;
  const sessionTurns = chaos.phase.sessions.reduce((n, s) => n + s.turns.length + (s.wait ? 1 : 0), 0);
  const report: ChaosReport = {
    command: reproduceCommand(options),
    options,
    date: new Date().toISOString(),
    ok: true,
    problems: [],
    wallMs: input.wallMs,
    baselineMs: baseline.phase.wallMs,
    chaosMs: chaos.phase.wallMs,
    sessionsStarted: chaos.phase.sessions.filter((s) => s.started).length,
    sessionsCompleted: rows.filter((r) => r.completed).length,
    sessionsFailed: rows.filter((r) => !r.completed).length,
    faults,
    faultsTotal: Object.values(faults).reduce((a, b) => a + b, 0),
    toolFaultsHandled,
    workspacesIdentical: rows.filter((r) => r.workspaceIdentical).length,
    toolCalls: sum((c) => c.facts?.toolCalls ?? 0),
    toolCallsWithOneOutput: sum((c) => c.facts?.callsWithOneOutput ?? 0),
    reissuedAfterInterruption: sum((c) => c.facts?.reissued ?? 0),
    patchesResumed: sum((c) => c.facts?.patchesResumed ?? 0),
    modelRequests: input.requests,
    modelRequestsResent: input.resentRequests,
    commandsExecuted: chaos.ledger.executions,
    repeatedCommands: chaos.ledger.repeated,
    unexplainedDuplicates: chaos.ledger.unexplained,
    targeted: targeted.report,
    turnsStuckWithoutMessage: stuckSessions + targeted.report.stuckWithoutMessage,
    turnsWatched: sessionTurns + targeted.report.scenarios.filter((s) => s.turn !== null).length,
    store,
    hosts: input.hosts ?? null,
    protocolViolations: input.protocolViolations,
    sessions: rows,
    workDir: input.workDir,
  };
  const problems = [...findProblems(report, input), ...targeted.problems];
  return { ...report, ok: problems.length === 0, problems };
}

function sessionRow(check: SessionCheck): SessionRow {
  const { run, facts } = check;
  const completed = run.error === null && run.turns.length === run.plan.turns.length && run.turns.every((t) => t.status === 'completed');
  return {
    session: run.plan.name,
    host: run.host ?? null,
    completed,
    workspaceIdentical: completed && check.differences.length === 0,
    toolCalls: facts?.toolCalls ?? 0,
    callsWithOneOutput: facts?.callsWithOneOutput ?? 0,
    workerKills: run.kills,
    providerFaults: [...run.plan.providerFaults.values()].reduce((n, list) => n + list.length, 0),
    toolFaults: [...run.plan.toolFaults],
    reissued: facts?.reissued ?? 0,
    seconds: Math.round(run.durationMs / 100) / 10,
    error: run.error ?? check.transcriptError ?? (check.differences.length > 0 ? `workspace differs: ${check.differences.slice(0, 5).join(', ')}` : null),
  };
}

function findProblems(r: ChaosReport, input: ReportInput): string[] {
  const problems: string[] = [];
  const add = (condition: boolean, text: string) => condition && problems.push(text);
  for (const [name, phase] of [['baseline', input.baseline], ['chaos', input.chaos]] as const) {
    for (const check of phase.checks) {
      const s = check.run.plan.name;
      add(check.run.error !== null, `${name} ${s} did not complete: ${check.run.error}`);
      add(check.run.wait?.state === 'silent', `${name} ${s}: a turn stuck without a message to the user at the deadline (${check.run.wait?.state === 'silent' ? check.run.wait.reason : ''})`);
      add(check.transcriptError !== null, `${name} ${s}: final transcript does not load: ${check.transcriptError}`);
      add(!!check.facts && check.facts.callsWithOneOutput !== check.facts.toolCalls, `${name} ${s}: ${(check.facts?.toolCalls ?? 0) - (check.facts?.callsWithOneOutput ?? 0)} tool calls without exactly one output`);
      for (const failure of check.facts?.unexpectedFailures ?? []) problems.push(`${name} ${s}: unexpected tool failure ${failure}`);
      for (const diff of check.differences) problems.push(`${name} ${s}: workspace differs from the fault-free run: ${diff}`);
      for (const tf of check.facts?.toolFaults ?? []) add(!tf.handled, `${name} ${s}: tool fault ${tf.fault} was not answered as expected`);
    }
    for (const rep of phase.ledger.repeated) add(!rep.explained, `${name}: ${rep.command} ran ${rep.executions} times, unexplained: ${rep.reason}`);
    for (const id of phase.ledger.phantomResults) problems.push(`${name}: ${id} reports a finished command that never ran`);
  }
  add(r.store.lost.length > 0, `${r.store.lost.length} store objects lost: ${r.store.lost.slice(0, 5).join(', ')}`);
  add(r.store.corrupted.length > 0, `${r.store.corrupted.length} store objects corrupted: ${r.store.corrupted.slice(0, 5).join(', ')}`);
  add(r.store.chainsLoaded !== r.store.headsChecked, `${r.store.headsChecked - r.store.chainsLoaded} recorded heads whose chain does not load`);
  if (r.hosts) problems.push(...hostProblems(r.hosts));
  for (const v of r.protocolViolations) problems.push(`protocol violation: ${v}`);
  for (const a of input.modelAnomalies) problems.push(`scripted model: ${a}`);
  return problems;
}

/** Tools (or other workspace activities) run on the wrong host, unreadable histories, a host that served no inference. */
export function hostProblems(h: HostsReport): string[] {
  const problems = h.wrongHost.map((w) => `ran on the wrong host: ${w}`);
  for (const u of h.unreadable) problems.push(`history not readable for the host check: ${u}`);
  for (const id of HOST_IDS) if (h.inferencesByHost[id] === 0) problems.push(`host ${id} served no inference (both hosts poll the shared queue)`);
  if (h.workspaceActivities === 0) problems.push('no workspace activity found in the histories: the host check checked nothing');
  return problems;
}

/** The two-host table (empty in the one-host mode). */
function renderHosts(h: HostsReport | null): string[] {
  if (!h) return [];
  return [
    '### Two hosts',
    '',
    '| measure | A | B |',
    '|---|---|---|',
    `| sessions pinned | ${h.sessionsByHost.A} | ${h.sessionsByHost.B} |`,
    `| worker SIGKILLs | ${h.workerKillsByHost.A} | ${h.workerKillsByHost.B} |`,
    `| inferences served (runInference, by worker identity) | ${h.inferencesByHost.A} | ${h.inferencesByHost.B} |`,
    '',
    `Workspace activities (${[...WORKSPACE_ACTIVITIES].join(', ')}) checked in Temporal history: ${h.workspaceActivities}; run on the wrong host: ${h.wrongHost.length}. PostgreSQL restarts: ${h.dbRestarts}.`,
    '',
  ];
}

const seconds = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
};

/** The targeted scenarios: pass counts by kind, then one row per scenario. */
function renderTargeted(t: TargetedReport): string[] {
  if (t.scenarios.length === 0) return ['### Targeted scenarios', '', 'Not run (`--no-targeted`).', ''];
  const yesNo = (b: boolean) => (b ? 'yes' : '**no**');
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    '### Targeted scenarios',
    '',
    '| scenario kind | what | runs | passed |',
    '|---|---|---|---|',
    ...TARGETED_KINDS.filter((k) => t.byKind[k].runs > 0).map((k) => `| ${k} | ${TARGETED_LABELS[k]} | ${t.byKind[k].runs} | ${t.byKind[k].passed} |`),
    '',
    '| scenario | passed | turn ended | patch at the kill → at the end | what happened | seconds |',
    '|---|---|---|---|---|---|',
    ...t.scenarios.map((s) => {
      const patch = s.patch ? `${s.patch.atKill ?? '—'} → ${s.patch.verdict}` : '—';
      return `| ${s.name} | ${yesNo(s.passed)} | ${s.turn?.end ?? '—'} | ${patch} | ${cell(s.note)} | ${s.seconds} |`;
    }),
    '',
    ...renderHostLosses(t.scenarios),
  ];
}

/** The host-loss figures: how long the move took, the restore, the steps repeated. */
function renderHostLosses(scenarios: readonly ScenarioResult[]): string[] {
  const losses = scenarios.filter((s) => s.hostLoss);
  if (losses.length === 0) return [];
  const secs = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`);
  const yesNo = (b: boolean) => (b ? 'yes' : '**no**');
  return [
    '#### Host loss',
    '',
    '| scenario | failoverAfter | moves | time to move (kill → adopted) | waited on the lost host | liveness checks | restore (adoption) | restored from | steps repeated | workspace identical to the fault-free run |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...losses.map((s) => {
      const f = s.hostLoss!;
      return `| ${s.name} | ${f.failoverAfterS} s | ${f.moves} | ${secs(f.timeToMoveMs)} | ${secs(f.waitedOnLostHostMs)} | ${f.livenessChecks} | ${secs(f.restoreMs)} | ${f.restoredFrom ?? '—'} | ${f.stepsRepeated} | ${yesNo(f.workspaceIdentical)} |`;
    }),
    '',
  ];
}

/** The report as markdown: the summary table, faults by kind, targeted scenarios, repeated commands, sessions. */
export function renderMarkdown(r: ChaosReport): string {
  const yesNo = (b: boolean) => (b ? 'yes' : '**no**');
  const lines = [
    `## Chaos run: ${r.options.sessions} sessions, seed ${r.options.seed}${r.hosts ? ', two hosts on PostgreSQL' : ''} — ${r.ok ? 'PASS' : 'FAIL'}`,
    '',
    `Command: \`${r.command}\` (${r.date})`,
    '',
    '| measure | result |',
    '|---|---|',
    `| sessions started / completed / failed | ${r.sessionsStarted} / ${r.sessionsCompleted} / ${r.sessionsFailed} |`,
    `| faults injected | ${r.faultsTotal} in the random sessions (by kind below), plus ${r.targeted.scenarios.length} targeted scenarios (below) |`,
    `| final workspace identical to the fault-free run | ${r.workspacesIdentical} of ${r.sessions.length} sessions |`,
    `| tool calls with exactly one output | ${r.toolCallsWithOneOutput} of ${r.toolCalls} |`,
    `| calls reported to the model as interrupted, re-issued by it | ${r.reissuedAfterInterruption} |`,
    `| patches a retry finished after a kill mid-patch (\`metadata.resumed\`) | ${r.patchesResumed} in the random sessions, ${r.targeted.patchKillsResumed} of ${r.targeted.patchKills} targeted kills |`,
    `| double applications of a patch (\`checkPatchApplication\`) | ${r.targeted.doubleApplications} of ${r.targeted.patchesChecked} patches checked |`,
    `| partial patches | ${r.targeted.partialPatches} of ${r.targeted.patchesChecked} patches checked |`,
    `| killed patch calls answered with exactly one \`Success.\` output | ${r.targeted.patchKillsWithOneSuccess} of ${r.targeted.patchKills} |`,
    `| turns stuck without a message to the user | ${r.turnsStuckWithoutMessage} of ${r.turnsWatched} turns watched |`,
    `| targeted scenarios passed | ${r.targeted.passed} of ${r.targeted.scenarios.length} (by kind below) |`,
    ...(r.targeted.hostLosses > 0 ? [`| host losses survived (moved once, final workspace identical to the fault-free run) | ${r.targeted.hostLossesSurvived} of ${r.targeted.hostLosses} (figures below) |`] : []),
    `| commands executed (side-effect ledger) | ${r.commandsExecuted} |`,
    `| commands executed more than once | ${r.repeatedCommands.length} (${r.repeatedCommands.length - r.unexplainedDuplicates} explained, ${r.unexplainedDuplicates} unexplained) |`,
    `| store objects checked / lost / corrupted | ${r.store.objects} / ${r.store.lost.length} / ${r.store.corrupted.length} |`,
    `| transcript chains loaded from recorded heads | ${r.store.chainsLoaded} of ${r.store.headsChecked} (plus ${r.store.toolResultMarkers} recorded tool results) |`,
    ...(r.hosts ? [`| workspace activities run on the wrong host (Temporal history) | ${r.hosts.wrongHost.length} of ${r.hosts.workspaceActivities} |`] : []),
    `| protocol violations (scripted Responses server) | ${r.protocolViolations.length} |`,
    `| model requests served (re-sent with the same input after a kill or restart) | ${r.modelRequests} (${r.modelRequestsResent}) |`,
    `| wall time | ${seconds(r.wallMs)} (fault-free baseline ${seconds(r.baselineMs)}, with faults ${seconds(r.chaosMs)}, targeted ${seconds(r.targeted.wallMs)}) |`,
    '',
    '### Faults injected, by kind',
    '',
    '| fault | count |',
    '|---|---|',
    // The database restarts only exist in the two-host mode.
    ...ALL_FAULT_KINDS.filter((k) => r.hosts || k !== 'database-restart').map((k) => `| ${FAULT_LABELS[k]} | ${r.faults[k]} |`),
    '',
    '### Tool faults: what the model was told',
    '',
    '| tool fault | ran | answered as expected |',
    '|---|---|---|',
    ...TOOL_FAULTS.map((f) => `| ${f} | ${r.toolFaultsHandled[f].ran} | ${r.toolFaultsHandled[f].handledAsExpected} |`),
    '',
    ...renderHosts(r.hosts),
    ...renderTargeted(r.targeted),
    '### Commands executed more than once',
    '',
    ...(r.repeatedCommands.length === 0
      ? ['None.']
      : ['| command | executions | explained | why it was allowed |', '|---|---|---|---|', ...r.repeatedCommands.map((c) => `| ${c.command} | ${c.executions} | ${yesNo(c.explained)} | ${c.reason} |`)]),
    '',
    '### Sessions',
    '',
    '| session | completed | workspace identical | tool calls (one output each) | worker kills | provider faults | tool faults | re-issued | seconds |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.sessions.map((s) => `| ${s.session}${s.host ? ` (host ${s.host})` : ''} | ${yesNo(s.completed)} | ${yesNo(s.workspaceIdentical)} | ${s.toolCalls} (${s.callsWithOneOutput}) | ${s.workerKills} | ${s.providerFaults} | ${s.toolFaults.join(', ') || '—'} | ${s.reissued} | ${s.seconds} |`),
  ];
  if (r.problems.length > 0) lines.push('', '### Problems', '', ...r.problems.map((p) => `- ${p}`));
  return `${lines.join('\n')}\n`;
}
