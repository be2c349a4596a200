/**
 * The pure decisions of the agent loop, kept out of the workflow functions so unit
 * tests can cover them with tables.
 */
import type { ToolCallRef } from '../activities/types';
import type { ContextSettings } from '../config/settings';
import { userInputProblem } from '../shared/user-input';

/**
 * Groups calls into batches that run one after another: consecutive parallel-safe calls
 * share a batch (they run concurrently); every other call runs alone, in call order.
 * Flattening the batches gives back the calls in their original order, which is the
 * order their outputs are appended in.
 */
export function planToolBatches<T extends Pick<ToolCallRef, 'parallelSafe'>>(calls: readonly T[]): T[][] {
  const batches: T[][] = [];
  for (const call of calls) {
    const last = batches[batches.length - 1];
    if (call.parallelSafe && last && last.every((c) => c.parallelSafe)) last.push(call);
    else batches.push([call]);
  }
  return batches;
}

/** What the loop does after a model response. */
export type NextStep = { readonly kind: 'run-tools' } | { readonly kind: 'finish' };

/** A response with tool calls continues the loop; a plain message ends the turn. */
export function nextStep(calls: readonly unknown[]): NextStep {
  return calls.length > 0 ? { kind: 'run-tools' } : { kind: 'finish' };
}

/** Validates user input; returns an error message or null (see src/shared/user-input.ts). */
export function validateUserText(text: unknown, maxBytes: number): string | null {
  return userInputProblem(text, maxBytes);
}

/**
 * How often a response whose calls repeat a call_id is asked for again before the turn
 * fails: such a response is malformed (outputs are matched to calls by call_id), so no
 * call of it runs; a fresh request usually gets a well-formed one.
 */
export const MAX_MALFORMED_RESPONSE_RETRIES = 2;

/** The call_ids used by more than one call of a response, each once, in order of first use. */
export function repeatedCallIds(calls: readonly Pick<ToolCallRef, 'callId'>[]): { callId: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const call of calls) counts.set(call.callId, (counts.get(call.callId) ?? 0) + 1);
  return [...counts].filter(([, count]) => count > 1).map(([callId, count]) => ({ callId, count }));
}

/** Tokens estimated from a byte count, as Codex estimates them (bytes / 4). */
export function tokensOfBytes(bytes: number): number {
  return Math.ceil(bytes / 4);
}

/** True when the context estimate is over the thread's auto-compaction limit. */
export function needsCompaction(contextTokens: number, context: Pick<ContextSettings, 'autoCompactTokens'>): boolean {
  return contextTokens > context.autoCompactTokens;
}

/**
 * True when a turn should continue in a fresh run: Temporal suggests it (history is
 * getting long), or the configured steps-per-run bound is reached.
 */
export function shouldContinueAsNew(suggested: boolean, stepsThisRun: number, stepsPerRun: number | null): boolean {
  if (stepsThisRun === 0) return false;
  return suggested || (stepsPerRun !== null && stepsThisRun >= stepsPerRun);
}

/**
 * Tools without file effects, for calls recorded before each call carried its tool's
 * declaration (`facts.changesFiles`): they replay the decision they were recorded with.
 */
const NO_FILE_EFFECTS_BEFORE_DECLARATIONS = new Set(['update_plan']);

/**
 * Whether a step's calls may have changed the workspace, so that a checkpoint follows:
 * any call whose tool declares it may (`facts.changesFiles`, computed by the tool module
 * in the inference activity: shell unless the command is known read-only, apply_patch,
 * unknown tools; a checkpoint of an unchanged workspace is free). Calls recorded before
 * the declaration existed keep the rule they were recorded under.
 */
export function mayChangeFiles(calls: readonly Pick<ToolCallRef, 'name' | 'facts'>[]): boolean {
  return calls.some((call) => call.facts?.changesFiles ?? (!NO_FILE_EFFECTS_BEFORE_DECLARATIONS.has(call.name) && !call.facts?.knownSafe));
}
