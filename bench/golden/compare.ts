/**
 * Normalising and comparing `exec --json` streams for the side-by-side suite. Both
 * streams are normalised the same way (thread id, item ids, the workspace path), then
 * Unroll's documented additions are taken out of its stream, and what is left must equal
 * Codex's event for event, field for field.
 *
 * Unroll's additions (the README's `exec --json` section lists them): the event types in
 * {@link UNROLL_EVENT_TYPES}, the fields in {@link UNROLL_FIELDS}, and a script's
 * {@link KnownDifference}. The reason in a retry's `Reconnecting... n/max (reason)` and
 * the max are each agent's own words, so only `Reconnecting... n/` is compared.
 */
import type { KnownDifference } from './scenarios';

/** One event of a stream (a parsed JSON line). */
export type StreamEvent = Record<string, unknown>;

/** Event types only Unroll emits; a Codex consumer ignores them. */
export const UNROLL_EVENT_TYPES: ReadonlySet<string> = new Set([
  'context.compacted',
  'approval.requested',
  'approval.resolved',
  'input.injected',
  'thread.moved',
  'checkpoint.skipped',
  'call.rejected',
]);

/** Fields only Unroll adds, per event type. */
export const UNROLL_FIELDS: Readonly<Record<string, readonly string[]>> = {
  'turn.completed': ['thread_usage', 'context_tokens'],
};

/** Parses JSONL output; every non-empty line must be a JSON object. */
export function parseStream(text: string): StreamEvent[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as StreamEvent;
      } catch (err) {
        throw new Error(`line ${i + 1} of the stream is not JSON (${(err as Error).message}): ${line}`);
      }
    });
}

/** `item.completed:file_change` for an item event, the type otherwise. */
export function eventKey(event: StreamEvent): string {
  const item = event.item as { type?: unknown } | undefined;
  return item && typeof item.type === 'string' ? `${String(event.type)}:${item.type}` : String(event.type);
}

/**
 * The stream with placeholders for what differs between runs: the thread id
 * (`<thread>`), item ids renumbered by first appearance (`item_0`, …) and the workspace
 * (`<cwd>`, also through symlinks such as macOS's /private/var).
 */
export function normaliseStream(events: readonly StreamEvent[], workspaces: readonly string[]): StreamEvent[] {
  const ids = new Map<string, string>();
  const roots = [...new Set(workspaces)].sort((a, b) => b.length - a.length);
  const text = (s: string): string => roots.reduce((acc, root) => acc.split(root).join('<cwd>'), s);
  const walk = (value: unknown, key: string): unknown => {
    if (typeof value === 'string') {
      if (key === 'thread_id') return '<thread>';
      return text(value);
    }
    if (Array.isArray(value)) return value.map((v) => walk(v, ''));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = walk(v, k);
      return out;
    }
    return value;
  };
  return events.map((event) => {
    const copy = walk(event, '') as StreamEvent;
    const item = copy.item as { id?: unknown } | undefined;
    if (item && typeof item.id === 'string') {
      if (!ids.has(item.id)) ids.set(item.id, `item_${ids.size}`);
      item.id = ids.get(item.id);
    }
    return copy;
  });
}

/** `Reconnecting... 2/5 (429 …)` → `Reconnecting... 2/<max> (<reason>)`; other messages unchanged. */
export function retryMessageShape(message: string): string {
  return message.replace(/^(Reconnecting\.\.\. \d+)\/\S+ \(.*\)$/s, '$1/<max> (<reason>)');
}

/**
 * Unroll's stream as a Codex consumer sees it: without the additional event types and
 * fields, and without the events of the script's known difference (each of which must be
 * there: a difference that went away is reported, so the README is kept true).
 */
export function withoutAdditions(events: readonly StreamEvent[], difference?: KnownDifference): StreamEvent[] {
  const expectedExtras = [...(difference?.unrollOnly ?? [])];
  const kept: StreamEvent[] = [];
  for (const event of events) {
    if (UNROLL_EVENT_TYPES.has(String(event.type))) continue;
    const extra = expectedExtras.indexOf(eventKey(event));
    if (extra >= 0) {
      expectedExtras.splice(extra, 1);
      continue;
    }
    const copy = { ...event };
    for (const field of UNROLL_FIELDS[String(event.type)] ?? []) delete copy[field];
    kept.push(copy);
  }
  if (expectedExtras.length > 0) throw new Error(`the documented difference is gone: Unroll did not emit ${expectedExtras.join(', ')} (${difference?.why})`);
  return kept;
}

/**
 * The golden stream without the events of the script's known difference that only
 * Codex emits (the last ones of each key, so earlier items of the same kind stay).
 */
export function withoutCodexOnly(events: readonly StreamEvent[], difference?: KnownDifference): StreamEvent[] {
  const kept = [...events];
  for (const key of [...(difference?.codexOnly ?? [])].reverse()) {
    const at = kept.map(eventKey).lastIndexOf(key);
    if (at < 0) throw new Error(`the golden stream has no ${key} event, which the documented difference expects (${difference?.why})`);
    kept.splice(at, 1);
  }
  return kept;
}

/** Both streams in the form that is compared: retry messages reduced to their shape. */
export function comparable(events: readonly StreamEvent[]): StreamEvent[] {
  return events.map((event) => (event.type === 'error' && typeof event.message === 'string' ? { ...event, message: retryMessageShape(event.message) } : event));
}
