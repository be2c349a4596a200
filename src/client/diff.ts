/**
 * `unroll diff <threadA> <threadB> [--json]`: where two runs diverge, step by step (a
 * thread and its fork, or two runs of the same task). Each side may be a thread id or a
 * bundle. Exit 0 when every aligned step is the same, 1 when they differ (like diff(1)).
 * The workspaces after aligned steps are compared through their checkpoints (see
 * ../history/workspace-at.ts): the files that differ are reported where they start to.
 */
import { compareCheckpoints, type FileChange } from '../checkpoints';
import { NoCheckpointError, workspaceAt } from '../history/workspace-at';
import type { StepRun } from '../history/thread-run';
import { clientPlace, eitherStore } from './workspace-files';
import { buildRequestInput } from '../activities/model-client';
import { buildThreadRun } from '../history/build-run';
import { diffRuns, type Difference, type RunDiff } from '../history/run-diff';
import type { ThreadRun } from '../history/thread-run';
import { DebugContext, guarded, painterFor, withContext, type DebugIo, type Paint } from './debug-command';
import { resolveThread } from './thread-source';

/** Options of `unroll diff`. */
export interface DiffFlags {
  readonly json?: boolean;
  readonly temporalAddress?: string;
}

/** Paths of a files difference listed in the human report (--json has all). */
const MAX_LISTED_FILES = 20;

/** The checkpoint holding a thread's workspace after a step, or undefined when there is none. */
function checkpointAfter(run: ThreadRun, step: StepRun): string | null | undefined {
  try {
    return workspaceAt(run, { turn: step.turn, step: step.step }).checkpoint;
  } catch (err) {
    if (err instanceof NoCheckpointError) return undefined;
    throw err;
  }
}

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

function differenceLines(d: Difference, paint: Paint): string[] {
  const pad = '      ';
  switch (d.kind) {
    case 'request':
      return [`${pad}request input differs from item ${d.index}:`, paint('31', `${pad}  A ${d.a ?? '(none)'}`), paint('32', `${pad}  B ${d.b ?? '(none)'}`)];
    case 'tool-calls':
      return [`${pad}tool calls differ:`, paint('31', `${pad}  A ${d.a.join(' · ') || '(none)'}`), paint('32', `${pad}  B ${d.b.join(' · ') || '(none)'}`)];
    case 'tool-output':
      return [`${pad}output of call #${d.call + 1} (${d.name}) differs:`, paint('31', `${pad}  A ${oneLine(d.a)}`), paint('32', `${pad}  B ${oneLine(d.b)}`)];
    case 'assistant':
      return [`${pad}assistant text differs:`, paint('31', `${pad}  A ${oneLine(d.a)}`), paint('32', `${pad}  B ${oneLine(d.b)}`)];
    case 'outcome':
      return [`${pad}request outcome differs: A ${d.a} · B ${d.b}`];
    case 'files':
      return [`${pad}files differ (B against A): ${d.changes.length} path(s)`, ...d.changes.slice(0, MAX_LISTED_FILES).map((c) => paint(c.status === 'D' ? '31' : '32', `${pad}  ${c.status} ${c.path}`)), ...(d.changes.length > MAX_LISTED_FILES ? [`${pad}  … ${d.changes.length - MAX_LISTED_FILES} more`] : [])];
    case 'only-in':
      return [];
  }
}

function oneLine(text: string | null): string {
  if (text === null || text.trim() === '') return '(none)';
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= 160 ? flat : `${flat.slice(0, 159)}…`;
}

/** The human report of a diff. */
export function renderDiff(diff: RunDiff, a: ThreadRun, b: ThreadRun, paint: Paint): string[] {
  const describe = (run: ThreadRun) => `${run.threadId} (${run.turns.length} turn(s), ${run.turns.reduce((n, t) => n + t.steps.length, 0)} step(s), model ${run.settings?.model ?? '?'})`;
  const lines = [`${paint('31', 'A')} ${describe(a)}`, `${paint('32', 'B')} ${describe(b)}`];
  const fork = diff.relation === 'b-forks-a' ? b : diff.relation === 'a-forks-b' ? a : null;
  if (fork?.origin) {
    const edited = fork.origin.editedCallId ? `, output of ${fork.origin.editedCallId} edited` : '';
    lines.push(paint('35', `${fork === b ? 'B' : 'A'} is a fork of ${fork.origin.threadId} at ${fork.origin.turn}.${fork.origin.step}${edited}`));
    if (diff.shared.length > 0) lines.push(paint('2', `shared: ${diff.shared[0]}–${diff.shared[diff.shared.length - 1]} (the fork's starting transcript)`));
  }
  lines.push('');
  diff.pairs.forEach((pair, i) => {
    const label = `${(pair.a ? `A ${pair.a}` : '-').padEnd(8)} ↔ ${(pair.b ? `B ${pair.b}` : '-').padEnd(8)}`;
    const tokens = pair.tokens ? paint('2', ` tokens in ${signed(pair.tokens.inputDelta)} (cached ${signed(pair.tokens.cachedDelta)}), out ${signed(pair.tokens.outputDelta)}`) : '';
    const only = pair.differences.find((d) => d.kind === 'only-in');
    const verdict = pair.same ? paint('32', 'same') : only ? paint('33', `only in ${only.side.toUpperCase()}`) : paint('31', i === diff.firstDivergence ? 'DIVERGES' : 'differs');
    lines.push(`  ${label} ${verdict}${tokens}`);
    for (const d of pair.differences) lines.push(...differenceLines(d, paint));
  });
  const first = diff.firstDivergence === null ? null : diff.pairs[diff.firstDivergence];
  lines.push('', first ? paint('1', `first divergence: A ${first.a ?? '-'} ↔ B ${first.b ?? '-'} (${first.differences.map((d) => d.kind).join(', ')})`) : paint('32', 'no divergence: every aligned step is the same'));
  return lines;
}

/** Runs `unroll diff`. */
export function diffCommand(targetA: string, targetB: string, flags: DiffFlags, io: DebugIo): Promise<number> {
  return guarded(io, () =>
    withContext(DebugContext.open(io, flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}), async (ctx) => {
      const [sa, sb] = [await resolveThread(ctx, targetA), await resolveThread(ctx, targetB)];
      const [a, b] = [await buildThreadRun(sa.histories, sa.store), await buildThreadRun(sb.histories, sb.store)];
      const place = clientPlace(eitherStore(sa.store, sb.store), ctx.config.checkpointRoot, b.threadId);
      const filesOf = async (stepA: StepRun, stepB: StepRun): Promise<FileChange[] | null> => {
        const [from, to] = [checkpointAfter(a, stepA), checkpointAfter(b, stepB)];
        if (from === undefined || to === undefined) return null;
        if (from === to) return [];
        if (to === null) return null;
        return (await compareCheckpoints(place, from, to)).changes;
      };
      const diff = await diffRuns(a, b, (side, step) => buildRequestInput(side === 'a' ? sa.store : sb.store, step.request.head, step.request.append), filesOf);
      io.out.write(flags.json ? `${JSON.stringify(diff, null, 2)}\n` : `${renderDiff(diff, a, b, painterFor(io.out, io.env)).join('\n')}\n`);
      return diff.firstDivergence === null ? 0 : 1;
    }),
  );
}
