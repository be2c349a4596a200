import type { Usage } from './schemas';

/** Zero usage: the identity of {@link addUsage}. */
export const ZERO_USAGE: Usage = Object.freeze({
  inputTokens: 0,
  cachedInputTokens: 0,
  outputTokens: 0,
  reasoningOutputTokens: 0,
});

/**
 * Field-wise sum of two usages. Pure; safe in workflow code. `cacheWriteInputTokens` is
 * present in the sum when either side has it (usage recorded before it existed lacks it).
 */
export function addUsage(a: Usage, b: Usage): Usage {
  const cacheWrite = a.cacheWriteInputTokens === undefined && b.cacheWriteInputTokens === undefined ? {} : { cacheWriteInputTokens: (a.cacheWriteInputTokens ?? 0) + (b.cacheWriteInputTokens ?? 0) };
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningOutputTokens: a.reasoningOutputTokens + b.reasoningOutputTokens,
    ...cacheWrite,
  };
}
