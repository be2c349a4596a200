/**
 * Context windows of common models and the auto-compaction limit derived from them.
 * The limit is min(configured limit, 90% of the window): compacting a little early
 * leaves room for the next response and for the estimate's error.
 */

/** Known context windows, matched by the longest prefix of the model name. */
export const MODEL_CONTEXT_WINDOWS: Readonly<Record<string, number>> = {
  'gpt-5': 272_000,
  'gpt-5-codex': 272_000,
  'gpt-5.1': 272_000,
  'gpt-5.1-codex': 272_000,
  'gpt-5.2': 272_000,
  'codex-mini': 200_000,
  'gpt-4.1': 1_047_576,
  'gpt-4o': 128_000,
  o3: 200_000,
  'o4-mini': 200_000,
  'gpt-oss': 128_000,
};

/** Window assumed for a model that is not in the table. */
export const DEFAULT_CONTEXT_WINDOW = 128_000;

/** Share of the window at which compaction starts, at the latest. */
export const AUTO_COMPACT_SHARE = 0.9;

/** The context window of `model`, from the table (longest matching prefix) or the default. */
export function contextWindowFor(model: string): number {
  const name = model.toLowerCase();
  let best: string | undefined;
  for (const prefix of Object.keys(MODEL_CONTEXT_WINDOWS)) {
    if (name.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? DEFAULT_CONTEXT_WINDOW : MODEL_CONTEXT_WINDOWS[best];
}

/** The auto-compaction limit: the configured one, capped at 90% of the window. */
export function autoCompactLimit(windowTokens: number, configured?: number): number {
  const cap = Math.floor(windowTokens * AUTO_COMPACT_SHARE);
  return configured === undefined ? cap : Math.min(configured, cap);
}
