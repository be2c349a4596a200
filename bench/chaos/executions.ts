/**
 * What the sessions' transcripts and the side-effect ledger say about tool calls: that
 * each call has exactly one output, how the fault commands were answered, and which
 * commands ran more than once and why. A command may run twice only when its first call
 * was reported to the model as interrupted and the model issued it again; the same call
 * running twice, or a call whose output claims a result with no execution behind it,
 * is a durability failure.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isToolCall, isToolOutput, toolOutputText, type ConversationItem } from '../../src/items/schemas';
import type { ToolFault } from './faults';
import { needsReissue } from './model';
import type { SessionPlan } from './plan';
import { parseCallId, toolFaultHandled, type PlannedCall } from './steps';

/** Facts about one session's final transcript. */
export interface TranscriptFacts {
  readonly toolCalls: number;
  readonly callsWithOneOutput: number;
  /** Output text by call id (the first output, when there are several). */
  readonly outputs: ReadonlyMap<string, string>;
  /** Calls whose output said the outcome was unknown (interrupted, tool gave up). */
  readonly reissued: number;
  /**
   * apply_patch calls a retry finished after its worker died mid-patch: the recorded
   * result carries `metadata.resumed: true` (the model's output is the same as a first
   * run's, so only the metadata tells).
   */
  readonly patchesResumed: number;
  /** Tool fault calls and whether their output shows the expected handling. */
  readonly toolFaults: ReadonlyArray<{ readonly fault: ToolFault; readonly handled: boolean }>;
  /** Ordinary calls that failed for another reason than an interruption. */
  readonly unexpectedFailures: string[];
}

/** A tool call's recorded result (the `done` marker the tool activity writes), as far as the checks read it. */
export interface RecordedCallResult {
  readonly callId: string;
  readonly success: boolean;
  readonly interrupted: boolean;
  readonly metadata: Record<string, unknown>;
}

/**
 * Every recorded tool result under the store at `storeRoot` (its `markers/calls/*`
 * markers that start with `done `), by call id. An absent store has none.
 */
export async function readCallResults(storeRoot: string): Promise<Map<string, RecordedCallResult>> {
  const dir = path.join(storeRoot, 'markers', 'calls');
  const results = new Map<string, RecordedCallResult>();
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const value = await fs.readFile(path.join(dir, name), 'utf8').catch(() => '');
    if (!value.startsWith('done ')) continue;
    const result = JSON.parse(value.slice(5)) as RecordedCallResult;
    results.set(result.callId, result);
  }
  return results;
}

/**
 * Reads the facts of `items`, the final transcript of the session that played `plan`;
 * `results` are the recorded tool results of its phase (see {@link readCallResults}).
 */
export function transcriptFacts(plan: SessionPlan, items: readonly ConversationItem[], results: ReadonlyMap<string, RecordedCallResult> = new Map()): TranscriptFacts {
  const calls = items.filter(isToolCall);
  const outputsById = new Map<string, string[]>();
  for (const item of items.filter(isToolOutput)) outputsById.set(item.call_id, [...(outputsById.get(item.call_id) ?? []), toolOutputText(item.output)]);
  const outputs = new Map([...outputsById].map(([id, list]) => [id, list[0]]));
  const toolFaults: Array<{ fault: ToolFault; handled: boolean }> = [];
  const unexpectedFailures: string[] = [];
  let reissued = 0;
  let patchesResumed = 0;
  for (const call of calls) {
    const output = outputs.get(call.call_id) ?? '';
    if (needsReissue(output)) {
      reissued += 1;
      continue;
    }
    if (call.name === 'apply_patch' && results.get(call.call_id)?.metadata.resumed === true) patchesResumed += 1;
    const planned = plannedCall(plan, call.call_id);
    if (planned?.tool === 'shell' && planned.toolFault) toolFaults.push({ fault: planned.toolFault, handled: toolFaultHandled(planned.toolFault, output) });
    else if (planned && !succeeded(planned, output)) unexpectedFailures.push(`${call.call_id}: ${output.slice(0, 300)}`);
  }
  return {
    toolCalls: calls.length,
    callsWithOneOutput: calls.filter((c) => outputsById.get(c.call_id)?.length === 1).length,
    outputs,
    reissued,
    patchesResumed,
    toolFaults,
    unexpectedFailures,
  };
}

function plannedCall(plan: SessionPlan, id: string): PlannedCall | undefined {
  const parsed = parseCallId(id);
  return parsed ? plan.turns[parsed.turn - 1]?.steps[parsed.step]?.calls[parsed.call] : undefined;
}

function succeeded(call: PlannedCall, output: string): boolean {
  if (call.tool === 'shell') return output.startsWith('Exit code: 0\n');
  if (call.tool === 'apply_patch') return output.startsWith('Success. Updated the following files:');
  return output === 'Plan updated';
}

/** A command (one call of a script, all its re-issues together) that ran more than once. */
export interface RepeatedCommand {
  /** `<session> t<turn> k<step> c<call>`. */
  readonly command: string;
  readonly executions: number;
  readonly explained: boolean;
  readonly reason: string;
}

/** The ledger's verdict for one phase of the run. */
export interface LedgerReport {
  readonly executions: number;
  readonly repeated: RepeatedCommand[];
  readonly unexplained: number;
  /** Calls whose output reports a finished command that the ledger never saw run. */
  readonly phantomResults: string[];
}

/** Reads a ledger file into its lines (an absent ledger is empty). */
export async function readLedger(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.trim() !== '');
}

/**
 * Judges every execution in `lines` against the transcripts' outputs (`outputs`: call
 * id → output, all sessions). A command is explained when each execution but the last
 * belongs to a call the model was told was interrupted and then re-issued.
 */
export function analyseLedger(lines: readonly string[], outputs: ReadonlyMap<string, string>): LedgerReport {
  const byCommand = new Map<string, Map<number, number>>();
  for (const line of lines) {
    const m = /^([a-z]\d+) t(\d+) k(\d+) c(\d+) r(\d+)$/.exec(line.trim());
    if (!m) continue;
    const command = `${m[1]} t${m[2]} k${m[3]} c${m[4]}`;
    const instances = byCommand.get(command) ?? new Map<number, number>();
    instances.set(Number(m[5]), (instances.get(Number(m[5])) ?? 0) + 1);
    byCommand.set(command, instances);
  }
  const repeated: RepeatedCommand[] = [];
  for (const [command, instances] of byCommand) {
    const executions = [...instances.values()].reduce((a, b) => a + b, 0);
    if (executions <= 1) continue;
    repeated.push({ command, executions, ...explain(command, instances, outputs) });
  }
  const phantomResults: string[] = [];
  for (const [id, output] of outputs) {
    const parsed = parseCallId(id);
    if (!parsed || !output.startsWith('Exit code: ')) continue;
    const command = `${parsed.session} t${parsed.turn} k${parsed.step} c${parsed.call}`;
    if (!byCommand.get(command)?.get(parsed.retry)) phantomResults.push(id);
  }
  repeated.sort((a, b) => a.command.localeCompare(b.command));
  return { executions: lines.length, repeated, unexplained: repeated.filter((r) => !r.explained).length, phantomResults };
}

function explain(command: string, instances: ReadonlyMap<number, number>, outputs: ReadonlyMap<string, string>): { explained: boolean; reason: string } {
  const twice = [...instances].filter(([, n]) => n > 1).map(([r]) => r);
  if (twice.length > 0) return { explained: false, reason: `call r${twice.join(', r')} itself ran more than once (a retry repeated it)` };
  const [session, t, k, c] = command.split(' ');
  const retries = [...instances.keys()].sort((a, b) => a - b);
  const reasons: string[] = [];
  for (const r of retries.slice(0, -1)) {
    const output = outputs.get(`call_${session}_${t}_${k}_${c}_r${r}`);
    if (output === undefined || !needsReissue(output)) {
      return { explained: false, reason: `call r${r} ran and was answered ${output === undefined ? 'nothing' : JSON.stringify(output.slice(0, 60))}, yet ran again` };
    }
    reasons.push(`r${r} was reported to the model as "${output.split(':')[0]}" (its worker died mid-command) and re-issued by it as r${r + 1}`);
  }
  return { explained: true, reason: reasons.join('; ') };
}
