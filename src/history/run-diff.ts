/**
 * Comparing two runs step by step. Steps are aligned by turn and by position within the
 * turn; when one thread is a fork of the other, the parent's steps up to the fork point
 * are the shared prefix and its following steps are aligned with the fork's first turn
 * (a fork at the last step of a turn continues like the parent's next turn). Each pair
 * is compared on what was sent (the request input, item by item), what came back (tool
 * calls with their arguments, assistant text, failures) and what the tools returned;
 * token counts are reported as deltas but do not count as a divergence. With a
 * `filesOf` comparer, the two workspaces after each aligned step are compared too (their
 * checkpoints). A request or files difference is reported at the first pair that shows
 * it, not again for each later pair that carries the same difference.
 */
import type { FileChange } from '../checkpoints/types';
import { canonicalJson } from '../store/canonical-json';
import type { Usage } from '../items/schemas';
import type { StepRun, ThreadRun } from './thread-run';

/** One way two aligned steps differ. */
export type Difference =
  | { readonly kind: 'request'; readonly index: number; readonly a: string | null; readonly b: string | null }
  | { readonly kind: 'tool-calls'; readonly a: readonly string[]; readonly b: readonly string[] }
  | { readonly kind: 'tool-output'; readonly call: number; readonly name: string; readonly a: string | null; readonly b: string | null }
  | { readonly kind: 'assistant'; readonly a: string; readonly b: string }
  | { readonly kind: 'outcome'; readonly a: string; readonly b: string }
  /** The workspaces after the two steps differ: how B's files differ from A's. */
  | { readonly kind: 'files'; readonly changes: readonly FileChange[] }
  | { readonly kind: 'only-in'; readonly side: 'a' | 'b' };

/** Two aligned steps (either may be missing) and how they differ. */
export interface StepPair {
  readonly a: string | null;
  readonly b: string | null;
  readonly same: boolean;
  readonly differences: readonly Difference[];
  /** B minus A, when both steps have usage. */
  readonly tokens: { readonly inputDelta: number; readonly cachedDelta: number; readonly outputDelta: number } | null;
}

/** The comparison of two threads. */
export interface RunDiff {
  readonly a: string;
  readonly b: string;
  readonly relation: 'b-forks-a' | 'a-forks-b' | 'unrelated';
  /** Steps of the parent the fork starts from (its transcript includes them). */
  readonly shared: readonly string[];
  readonly pairs: readonly StepPair[];
  /** Index in `pairs` of the first pair that differs, or null when none does. */
  readonly firstDivergence: number | null;
}

/**
 * How the workspace after step `b` differs from the one after step `a` (empty: the same),
 * or null when either cannot be told (no checkpoint).
 */
export type WorkspaceDiffOf = (a: StepRun, b: StepRun) => Promise<readonly FileChange[] | null>;

/** Supplies the exact request input of a step of side `a` or `b`. */
export type RequestInputOf = (side: 'a' | 'b', step: StepRun) => Promise<readonly Record<string, unknown>[]>;

type StepLists = readonly (readonly StepRun[])[];

/** Aligns parent and fork: the parent's steps after the fork point meet the fork's turns. */
function alignFork(parent: ThreadRun, fork: ThreadRun): { shared: StepRun[]; parentTurns: StepLists; forkTurns: StepLists } {
  const origin = fork.origin!;
  const shared = parent.turns.flatMap((t) => (t.turn < origin.turn ? t.steps : t.turn === origin.turn ? t.steps.filter((s) => s.step <= origin.step) : []));
  const rest = parent.turns.find((t) => t.turn === origin.turn)?.steps.filter((s) => s.step > origin.step) ?? [];
  const later = parent.turns.filter((t) => t.turn > origin.turn).map((t) => t.steps);
  return { shared, parentTurns: rest.length > 0 ? [rest, ...later] : later, forkTurns: fork.turns.map((t) => t.steps) };
}

function zipLongest<T>(a: readonly T[], b: readonly T[]): [T | null, T | null][] {
  return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => [a[i] ?? null, b[i] ?? null]);
}

const clip = (text: string, max = 160): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
};

/** A one-line description of a request item, for reports. */
export function describeInputItem(item: Record<string, unknown> | undefined): string | null {
  if (!item) return null;
  if (item.type === 'message' && Array.isArray(item.content)) {
    const text = (item.content as { text?: string }[]).map((p) => p.text ?? '').join('');
    return `message ${String(item.role)}: ${clip(text)}`;
  }
  if (typeof item.output === 'string') return `${String(item.type)} ${String(item.call_id)}: ${clip(item.output)}`;
  if (item.type === 'function_call') return `function_call ${String(item.name)} ${clip(String(item.arguments))}`;
  return clip(`${String(item.type)} ${JSON.stringify(item)}`);
}

const callLabel = (s: StepRun): string[] => s.toolCalls.map((c) => `${c.name} ${c.arguments ?? '?'}`);
const outcomeOf = (s: StepRun): string => (s.inference.outcome === 'completed' ? 'completed' : `${s.inference.outcome}: ${s.inference.failure ?? ''}`);

async function compareSteps(a: StepRun, b: StepRun, requestOf: RequestInputOf): Promise<Difference[]> {
  const found: Difference[] = [];
  const [ra, rb] = await Promise.all([requestOf('a', a), requestOf('b', b)]);
  const length = Math.max(ra.length, rb.length);
  for (let i = 0; i < length; i++) {
    if (ra[i] !== undefined && rb[i] !== undefined && canonicalJson(ra[i]) === canonicalJson(rb[i])) continue;
    found.push({ kind: 'request', index: i, a: describeInputItem(ra[i]), b: describeInputItem(rb[i]) });
    break;
  }
  if (outcomeOf(a) !== outcomeOf(b)) found.push({ kind: 'outcome', a: outcomeOf(a), b: outcomeOf(b) });
  const [ca, cb] = [callLabel(a), callLabel(b)];
  if (canonicalJson(ca) !== canonicalJson(cb)) found.push({ kind: 'tool-calls', a: ca, b: cb });
  a.toolCalls.forEach((call, i) => {
    const other = b.toolCalls[i];
    if (other && other.name === call.name && other.output !== call.output) found.push({ kind: 'tool-output', call: i, name: call.name, a: call.output, b: other.output });
  });
  const [ma, mb] = [a.messages.join('\n'), b.messages.join('\n')];
  if (ma !== mb) found.push({ kind: 'assistant', a: ma, b: mb });
  return found;
}

function tokenDelta(a: Usage | null, b: Usage | null): StepPair['tokens'] {
  if (!a || !b) return null;
  return { inputDelta: b.inputTokens - a.inputTokens, cachedDelta: b.cachedInputTokens - a.cachedInputTokens, outputDelta: b.outputTokens - a.outputTokens };
}

/** Aligns and compares two threads (see the module comment). */
export async function diffRuns(a: ThreadRun, b: ThreadRun, requestOf: RequestInputOf, filesOf?: WorkspaceDiffOf): Promise<RunDiff> {
  let relation: RunDiff['relation'] = 'unrelated';
  let shared: StepRun[] = [];
  let aTurns: StepLists = a.turns.map((t) => t.steps);
  let bTurns: StepLists = b.turns.map((t) => t.steps);
  if (b.origin?.threadId === a.threadId) {
    relation = 'b-forks-a';
    const aligned = alignFork(a, b);
    [shared, aTurns, bTurns] = [aligned.shared, aligned.parentTurns, aligned.forkTurns];
  } else if (a.origin?.threadId === b.threadId) {
    relation = 'a-forks-b';
    const aligned = alignFork(b, a);
    [shared, aTurns, bTurns] = [aligned.shared, aligned.forkTurns, aligned.parentTurns];
  }
  const pairs: StepPair[] = [];
  let carried: string | null = null;
  let carriedFiles: string | null = null;
  for (const [ta, tb] of zipLongest(aTurns, bTurns)) {
    for (const [sa, sb] of zipLongest(ta ?? [], tb ?? [])) {
      let differences: Difference[] = !sa ? [{ kind: 'only-in', side: 'b' }] : !sb ? [{ kind: 'only-in', side: 'a' }] : await compareSteps(sa, sb, requestOf);
      // A request difference is carried into every later request: report it where it appears.
      const request = differences.find((d) => d.kind === 'request');
      const key = request ? canonicalJson(request) : null;
      if (key !== null && key === carried) differences = differences.filter((d) => d !== request);
      if (sa && sb) carried = key;
      if (sa && sb && filesOf) {
        // Files that differ stay different until a step changes them: report each change of the difference.
        const changes = await filesOf(sa, sb);
        const filesKey: string | null = changes === null ? carriedFiles : canonicalJson(changes);
        if (changes !== null && changes.length > 0 && filesKey !== carriedFiles) differences.push({ kind: 'files', changes });
        carriedFiles = filesKey;
      }
      pairs.push({ a: sa?.id ?? null, b: sb?.id ?? null, same: differences.length === 0, differences, tokens: tokenDelta(sa?.usage ?? null, sb?.usage ?? null) });
    }
  }
  const first = pairs.findIndex((p) => !p.same);
  return { a: a.threadId, b: b.threadId, relation, shared: shared.map((s) => s.id), pairs, firstDivergence: first < 0 ? null : first };
}
