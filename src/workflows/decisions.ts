/**
 * The pure decisions of the agent loop, kept out of the workflow functions so unit
 * tests can cover them with tables.
 */
import type { ToolCallRef } from '../activities/types';
import type { ContextSettings } from '../config/settings';

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

/** Validates user input; returns an error message or null. */
export function validateUserText(text: unknown, maxBytes: number): string | null {
  if (typeof text !== 'string') return 'input text must be a string';
  if (text.trim() === '') return 'input text is empty';
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > maxBytes) return `input text is ${bytes} bytes; the limit is ${maxBytes} (put large content in a file and refer to it)`;
  return null;
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
