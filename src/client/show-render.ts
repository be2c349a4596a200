/**
 * The terminal form of `unroll show`: a header for the thread, then per turn the user's
 * input and a numbered list of steps (`<turn>.<step>`) with the request size and tokens,
 * reasoning, assistant text, each tool call with its exit code, duration and an excerpt
 * of its output, retries and failures, compactions and continue-as-new boundaries.
 * `renderStepDetail` shows one step in full with the exact request input.
 */
import { checkpointLabel } from '../activities/failover';
import type { ActivityView, CheckpointView, CompactionView, HostMoveView, RewindView, StepRun, ThreadRun, ToolCallRun, TurnRun } from '../history/thread-run';
import type { Usage } from '../items/schemas';
import type { Paint } from './debug-command';
import { shellOutputBody } from './exec-events';

/** How much of long texts the step list shows. */
export interface RenderLimits {
  readonly textChars: number;
  readonly outputLines: number;
}

/** The step list's limits; `--step` shows everything. */
export const LIST_LIMITS: RenderLimits = { textChars: 240, outputLines: 4 };
const FULL: RenderLimits = { textChars: Number.POSITIVE_INFINITY, outputLines: Number.POSITIVE_INFINITY };

const oneLine = (text: string, max: number): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
};
const num = (n: number): string => n.toLocaleString('en-US');
/** A duration as `12 ms`, `3.4 s` or `2 min 5 s`. */
export function duration(ms: number | null): string {
  if (ms === null) return '?';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
/** Token usage on one line. */
export function usageLine(u: Usage): string {
  return `${num(u.inputTokens)} in (${num(u.cachedInputTokens)} cached) · ${num(u.outputTokens)} out (${num(u.reasoningOutputTokens)} reasoning)`;
}

/** The thread header: id, status, settings, origin, totals. */
export function renderHeader(run: ThreadRun, paint: Paint): string[] {
  const steps = run.turns.reduce((n, t) => n + t.steps.length, 0);
  const lines = [
    `${paint('1', `thread ${run.threadId}`)} · ${run.status} · created ${run.createdAt ?? '?'}`,
    paint('2', `model ${run.settings?.model ?? '?'} (${run.settings?.provider.name ?? '?'}) · cwd ${run.settings?.cwd ?? '?'} · ${hostLine(run.settings)}${run.settings?.baseInstructions ? ' · own base instructions' : ''}`),
  ];
  if (run.origin) {
    const changes = [
      run.origin.editedCallId ? `output of ${run.origin.editedCallId} edited` : null,
      run.origin.instructionsChanged ? 'other instructions' : null,
      `model ${run.origin.model}`,
    ].filter(Boolean);
    lines.push(paint('35', `forked from ${run.origin.threadId} at step ${run.origin.turn}.${run.origin.step} (${changes.join('; ')})`));
  }
  lines.push(paint('2', `${run.turns.length} turn(s) · ${steps} step(s) · tokens ${usageLine(run.usage)}`));
  return lines;
}

/** Where the thread's workspace is: its pinned host, or (a thread from before pins) its tool queue. */
export function hostLine(settings: ThreadRun['settings']): string {
  if (!settings) return 'host ?';
  return settings.host ? `host ${settings.host.id}` : `tools on task queue ${settings.toolTaskQueue} (no host pin)`;
}

/** The whole step list (optionally one turn only). */
export function renderThread(run: ThreadRun, paint: Paint, onlyTurn?: number): string[] {
  const lines = renderHeader(run, paint);
  let sessionRun = 0;
  for (const turn of run.turns) {
    if (turn.sessionRun !== sessionRun) {
      sessionRun = turn.sessionRun;
      lines.push(paint('33', `── session continued as new (run ${sessionRun + 1}: ${run.sessionRuns[sessionRun]?.runId ?? '?'}) ──`));
    }
    if (onlyTurn !== undefined && turn.turn !== onlyTurn) continue;
    for (const r of run.rewinds.filter((r) => r.beforeTurn === turn.turn)) lines.push('', rewindLine(r, paint));
    lines.push('', ...renderTurn(turn, paint, LIST_LIMITS));
  }
  const lastTurn = run.turns[run.turns.length - 1]?.turn ?? 0;
  if (onlyTurn === undefined) for (const r of run.rewinds.filter((r) => r.beforeTurn > lastTurn)) lines.push('', rewindLine(r, paint));
  const between = run.sessionActivities.filter((a) => a.name !== 'recoverTurnHead' && a.name !== 'restoreWorkspace' && !FAILOVER_ACTIVITIES.includes(a.name));
  const moves = run.sessionHostMoves;
  if (between.length > 0 || moves.length > 0) {
    lines.push('', paint('2', 'between turns:'), ...between.map((a) => `  ${activityLine(a, paint)}`), ...moves.map((m) => hostMoveLine(m, paint, '  ')));
  }
  return lines;
}

/** A rewind, where it happened: before the turn that ran from the rewound point. */
function rewindLine(r: RewindView, paint: Paint): string {
  return paint('35', `── rewound to step ${r.to}: workspace reset to checkpoint ${r.checkpoint.slice(0, 12)}; turn ${r.beforeTurn} continues from there (later steps stay in the record) ──`);
}

function renderTurn(turn: TurnRun, paint: Paint, limits: RenderLimits): string[] {
  const took = turn.startedAt && turn.closedAt ? ` · ${duration(Date.parse(turn.closedAt) - Date.parse(turn.startedAt))}` : '';
  const status = turn.status === 'completed' ? paint('32', turn.status) : turn.status === 'running' ? paint('33', turn.status) : paint('31', turn.status);
  const lines = [`${paint('1', `turn ${turn.turn}`)} · ${status} · ${turn.steps.length} step(s)${took} · ${usageLine(turn.usage)}`];
  if (turn.compaction) lines.push(...compactionLines(turn.compaction, paint, '  '));
  lines.push(`  ${paint('1', 'user')} ${oneLine(turn.userText, limits.textChars)}`);
  if (turn.abortedCalls.length > 0) lines.push(paint('33', `  answered ${turn.abortedCalls.length} open call(s) of an earlier turn as aborted: ${turn.abortedCalls.join(', ')}`));
  if (turn.setup && (turn.setup.attempts > 1 || turn.setup.outcome !== 'completed')) lines.push(`  ${activityLine(turn.setup, paint)}`);
  const moves = turn.hostMoves;
  lines.push(...moves.filter((m) => m.step === 0).map((m) => hostMoveLine(m, paint, `  ${turn.turn}.0  `)));
  if (turn.startCheckpoint?.status === 'created' || turn.startCheckpoint?.status === 'skipped') lines.push(checkpointLine(turn.startCheckpoint, paint, `  ${turn.turn}.0  `));
  for (const step of turn.steps) lines.push(...renderStep(step, paint, limits, moves));
  for (const a of turn.after) lines.push(`  ${activityLine(a, paint)}`);
  if (turn.error) lines.push(paint('31', `  turn failed: ${turn.error.type}: ${turn.error.message}`));
  return lines;
}

/** One step: the request line, then what the response held and what its calls did (and any host failover during them: `moves` of its turn). */
export function renderStep(step: StepRun, paint: Paint, limits: RenderLimits = LIST_LIMITS, moves: readonly HostMoveView[] = []): string[] {
  const pad = ' '.repeat(step.id.length + 4);
  const lines: string[] = [];
  if (step.newRun) lines.push(paint('33', `  ── turn continued as new (run ${step.newRun}) ──`));
  for (const a of step.before) lines.push(`  ${activityLine(a, paint)}`);
  if (step.compaction) lines.push(...compactionLines(step.compaction, paint, '  '));
  for (const r of step.rejected) lines.push(paint('31', `  ${step.id} request failed: ${r.failure ?? r.outcome}`));
  const size = step.request.inputItems !== null ? `${step.request.inputItems} items, ${num(step.request.inputBytes ?? 0)} B` : `head ${step.request.head?.slice(0, 12) ?? '∅'} + ${step.request.append.length}`;
  const tokens = step.usage ? ` · ${num(step.usage.inputTokens)} in (${num(step.usage.cachedInputTokens)} cached) · ${num(step.usage.outputTokens)} out` : '';
  lines.push(`  ${paint('36', step.id)}  request ${size}${tokens} · ${duration(step.inference.durationMs)}`);
  lines.push(...retryLines(step.inference, paint, pad));
  if (step.inference.outcome === 'scheduled') lines.push(paint('33', `${pad}in progress…`));
  else if (step.inference.outcome !== 'completed') lines.push(paint('31', `${pad}${step.inference.outcome}${step.inference.failure ? `: ${step.inference.failure}` : ''}`));
  for (const text of step.reasoning) lines.push(paint('2;3', `${pad}thinking ${limited(text, limits)}`));
  for (const call of step.toolCalls) lines.push(...toolLines(call, paint, pad, limits));
  for (const text of step.messages) lines.push(`${pad}${paint('1', 'assistant')} ${limited(text, limits)}`);
  if (step.step > 0) lines.push(...moves.filter((m) => m.step === step.step).map((m) => hostMoveLine(m, paint, pad)));
  if (step.checkpoint) lines.push(checkpointLine(step.checkpoint, paint, pad));
  return lines;
}

function limited(text: string, limits: RenderLimits): string {
  return limits.textChars === Number.POSITIVE_INFINITY ? text : oneLine(text, limits.textChars);
}

function retryLines(a: ActivityView, paint: Paint, pad: string): string[] {
  if (a.attempts <= 1) return [];
  return [paint('33', `${pad}retried: ${a.attempts} attempts${a.lastRetryFailure ? `; last error: ${oneLine(a.lastRetryFailure, 200)}` : ''}`)];
}

/** How a call's approval (if any) or a made-up output is shown next to it. */
function approvalNote(call: ToolCallRun, paint: Paint): string {
  const decision = call.approval?.decision;
  if (decision === 'approve' || decision === 'approve-for-session') return paint('33', ` · approved${decision === 'approve-for-session' ? ' for the session' : ''}`);
  if (decision === 'deny' || decision === 'abort') return paint('31', ` · ${decision === 'abort' ? 'denied (turn aborted)' : 'denied'}: not run`);
  if (call.fallbackOutput) {
    return /approval request timed out|escalation refused/.test(call.output ?? '')
      ? paint('31', ' · not run (approval timed out or refused)')
      : paint('31', ' (tool gave up; output made up by the workflow)');
  }
  return '';
}

function toolLines(call: ToolCallRun, paint: Paint, pad: string, limits: RenderLimits): string[] {
  const state =
    call.status === 'completed' ? paint('32', call.exitCode !== null ? `exit ${call.exitCode}` : 'ok')
    : call.status === 'failed' ? paint('31', call.exitCode !== null ? `exit ${call.exitCode}` : 'failed')
    : paint('33', call.status);
  const args = call.arguments === null ? '(arguments not in store)' : limited(call.arguments, limits);
  const lines = [`${pad}${paint('35', '▸')} ${call.name} ${paint('2', call.callId)} ${args}  → ${state} · ${duration(call.durationMs)}${approvalNote(call, paint)}`];
  if (call.activity) lines.push(...retryLines(call.activity, paint, `${pad}  `));
  if (call.output !== null && call.output.trim() !== '') {
    // Shell outputs start with the exit code and wall time, already on the call's line.
    const text = call.name === 'shell' ? shellOutputBody(call.output) : call.output;
    const body = text.replace(/\n$/, '').split('\n');
    const shown = body.slice(0, limits.outputLines);
    for (const l of shown) lines.push(paint('2', `${pad}  │ ${limits === FULL ? l : oneLine(l, 160)}`));
    if (body.length > shown.length) lines.push(paint('2', `${pad}  │ … ${body.length - shown.length} more lines (--step shows all)`));
  }
  return lines;
}

function activityLine(a: ActivityView, paint: Paint): string {
  const label = a.summary ?? a.name;
  const end = a.outcome === 'completed' ? paint('32', 'ok') : paint('31', `${a.outcome}${a.failure ? `: ${oneLine(a.failure, 200)}` : ''}`);
  const tries = a.attempts > 1 ? paint('33', ` · ${a.attempts} attempts${a.lastRetryFailure ? ` (last error: ${oneLine(a.lastRetryFailure, 120)})` : ''}`) : '';
  return `${paint('2', '·')} ${label} → ${end} · ${duration(a.durationMs)}${tries}`;
}

function compactionLines(c: CompactionView, paint: Paint, indent: string): string[] {
  const r = c.activity?.result;
  const facts: Record<string, unknown> = typeof r === 'object' && r !== null ? { ...r } : {};
  const detail = typeof facts.tokensBefore === 'number' ? ` (${String(facts.mode)}, ${String(facts.reason)}: ${num(facts.tokensBefore)} → ${num(Number(facts.tokensAfter))} tokens)` : '';
  return [paint('33', `${indent}── compaction${detail}: history continues from a new root ${c.root.slice(0, 12)} (${c.rootItems} items) ──`)];
}

/**
 * A step's files: `files: 3 changed (checkpoint 1a2b3c4d5e6f)`, `files: unchanged`, or the
 * reason there is no checkpoint (checkout, fork and rewind cannot restore that step).
 */
export function checkpointLine(c: CheckpointView, paint: Paint, pad: string): string {
  if (c.status === 'created') {
    const names = c.changes.slice(0, 3).map((f) => f.path).join(', ');
    const more = c.changeCount > 3 ? `, … ${c.changeCount - 3} more` : '';
    return paint('32', `${pad}files: ${c.changeCount} changed (${names}${more}) · checkpoint ${c.id!.slice(0, 12)}`);
  }
  if (c.status === 'unchanged') return paint('2', `${pad}files: unchanged`);
  if (c.status === 'running') return paint('33', `${pad}files: checkpoint in progress…`);
  return paint('33', `${pad}files: no checkpoint (${c.reason ?? 'unknown reason'})`);
}

/** The activities of a host failover, which `show` tells as moves ({@link hostMoveLine}). */
const FAILOVER_ACTIVITIES = ['checkHostLiveness', 'adoptThread'];

/**
 * A host failover: `⇄ host A lost after 12.3 s (shell: make waited for a worker); moved to
 * host B in 0.4 s, workspace restored from step 1.1 at /w` — or, loudly, why the workspace
 * was not restored.
 */
export function hostMoveLine(m: HostMoveView, paint: Paint, pad: string): string {
  const waited = m.waitedFor ? ` (${m.waitedFor} found no worker)` : '';
  const busy = m.livenessChecks > 1 ? `, after ${m.livenessChecks - 1} check(s) found it busy` : '';
  const lost = `${pad}⇄ host ${m.from} lost after ${duration(m.lostAfterMs)}${waited}${busy}`;
  if (m.status === 'running') return paint('33', `${lost}; moving the thread to a live host…`);
  if (!m.move) return paint('31', `${lost}; the move failed: ${m.failure ?? 'unknown failure'}`);
  const { move } = m;
  const where = move.cwd === move.previousCwd ? `at ${move.cwd}` : `at ${move.cwd} (not ${move.previousCwd}: ${move.relocatedBecause ?? 'another path'})`;
  const head = `${lost}; moved to host ${move.to.id} in ${duration(m.adoptionMs)}`;
  if (move.restoredFrom) return paint('35', `${head}, workspace restored from ${checkpointLabel(move.restoredFrom)} ${where}`);
  return paint('31', `${head}; workspace NOT restored ${where}: ${move.notRestored ?? 'no checkpoint'}`);
}

/** One step in full: header, the step with nothing cut, then the exact request. */
export function renderStepDetail(run: ThreadRun, step: StepRun, request: Record<string, unknown> & { input: unknown[] }, paint: Paint): string[] {
  const moves = run.turns.find((t) => t.turn === step.turn)?.hostMoves ?? [];
  const lines = [...renderHeader(run, paint), '', ...renderStep(step, paint, FULL, moves), ''];
  const { input, ...body } = request;
  lines.push(paint('1', `request sent at step ${step.id}`));
  for (const [key, value] of Object.entries(body)) {
    if (key === 'instructions' && typeof value === 'string') lines.push(`  instructions: ${oneLine(value, 100)} (${value.length} chars)`);
    else if (key === 'tools' && Array.isArray(value)) lines.push(`  tools: ${value.map((t: { name?: string }) => t.name ?? '?').join(', ')}`);
    else lines.push(`  ${key}: ${JSON.stringify(value)}`);
  }
  lines.push(`  input: ${input.length} items`);
  input.forEach((item, i) => lines.push(...inputItemLines(item as Record<string, unknown>, i, paint)));
  return lines;
}

function inputItemLines(item: Record<string, unknown>, index: number, paint: Paint): string[] {
  const tag = paint('36', `  [${index}]`);
  if (item.type === 'message' && Array.isArray(item.content)) {
    const text = (item.content as { text?: string; refusal?: string }[]).map((p) => p.text ?? p.refusal ?? '').join('');
    return [`${tag} ${paint('1', String(item.role))}`, ...indented(text)];
  }
  if (item.type === 'function_call_output' || item.type === 'custom_tool_call_output') {
    return [`${tag} ${item.type} ${paint('2', String(item.call_id))}`, ...indented(String(item.output))];
  }
  return [`${tag} ${String(item.type)} ${JSON.stringify(item)}`];
}

function indented(text: string): string[] {
  return text.replace(/\n+$/, '').split('\n').map((l) => (l === '' ? '' : `      ${l}`));
}
