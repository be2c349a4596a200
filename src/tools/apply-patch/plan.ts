/**
 * Planning a patch: every operation is checked and every hunk located against an
 * in-memory view of the files (the disk plus the operations planned before it), and the
 * result is the final content of each path the patch touches, next to a hash of what
 * the disk held before. Reads files, never writes them.
 *
 * A patch the files already reflect (the model sent the same patch twice) is recognised:
 * each operation is judged against both the state before it (its hunks match) and the
 * state after it (its new lines are in place), and operations already done are skipped.
 * That guess is for repeated patches only; an activity retry never relies on it, since
 * ./journal.ts knows exactly what the interrupted attempt did.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { PatchVerificationError } from './errors';
import { applyMatches, describeMiss, invertHunk, locateHunks, splitFile, type HunkMatch } from './match';
import type { Hunk } from './parser';
import { missingParents, type ResolvedOperation, type Target } from './paths';

/** One changed file as reported to the model: Added, Modified (maybe moved) or Deleted. */
export interface FileChange {
  readonly kind: 'A' | 'M' | 'D';
  /** Relative to the workspace, `/`-separated; the destination for a move. */
  readonly path: string;
  /** The source of a `*** Move to:`, relative to the workspace. */
  readonly movedFrom?: string;
}

/** New content of a path, or null to delete it. */
export type PlannedWrite = { readonly text: string; readonly mode: number | undefined } | null;

/** A path whose content the patch changes. */
export interface PlannedFile {
  readonly target: Target;
  /** SHA-256 (hex) of the bytes on disk before the patch; null when the path did not exist. */
  readonly before: string | null;
  /** SHA-256 (hex) of `write`'s bytes; null when the patch deletes the path. */
  readonly after: string | null;
  readonly write: PlannedWrite;
}

/** What applying a patch means for the files. */
export interface PatchPlan {
  /** Paths whose content changes, in first-write order; empty when the patch is already applied. */
  readonly files: readonly PlannedFile[];
  /** Every operation of the patch, in patch order, as reported to the model. */
  readonly changes: readonly FileChange[];
  /** Directories writing the files creates (absolute), outermost first. */
  readonly dirs: readonly string[];
  /** True when the files already reflect every operation (nothing to write). */
  readonly alreadyApplied: boolean;
}

/** SHA-256 (hex) of a file's bytes, or null when there is no file there. */
export async function hashOnDisk(abs: string): Promise<string | null> {
  try {
    return sha256(await fs.readFile(abs));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** SHA-256 (hex) of bytes, or of a string's UTF-8 encoding. */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Plans `operations` against the files under their paths. Throws
 * {@link PatchVerificationError} when an operation does not fit the files. `retry` makes
 * a file to delete that is already missing count as deleted by an earlier attempt.
 */
export async function planPatch(operations: readonly ResolvedOperation[], retry = false): Promise<PatchPlan> {
  const pass = await planOperations(operations, retry);
  const files: PlannedFile[] = [];
  for (const [abs, { target, write }] of pass.writes) {
    const read = pass.view.diskHash(abs);
    const before = read === undefined ? await hashOnDisk(abs) : read;
    const after = write === null ? null : sha256(write.text);
    if (before !== after) files.push({ target, before, after, write });
  }
  const dirs = new Set<string>();
  for (const file of files) {
    if (file.before === null && file.write !== null) for (const dir of await missingParents(file.target.abs)) dirs.add(dir);
  }
  const outermostFirst = [...dirs].sort((a, b) => a.length - b.length);
  return { files, changes: pass.changes, dirs: outermostFirst, alreadyApplied: pass.writes.size === 0 };
}

// ---------------------------------------------------------------- file view

interface FileSnapshot {
  readonly text: string;
  readonly binary: boolean;
  /** Permission bits, kept when the file is rewritten or moved. */
  readonly mode: number | undefined;
}

/** The workspace as the patch sees it: the disk plus the operations planned so far. */
class WorkspaceView {
  private readonly overlay = new Map<string, FileSnapshot | null>();
  /** What each path held on disk when first read (SHA-256, or null for no file). */
  private readonly disk = new Map<string, string | null>();

  async read(target: Target): Promise<FileSnapshot | null> {
    const planned = this.overlay.get(target.abs);
    if (planned !== undefined) return planned;
    try {
      const [data, stat] = await Promise.all([fs.readFile(target.abs), fs.stat(target.abs)]);
      if (!this.disk.has(target.abs)) this.disk.set(target.abs, sha256(data));
      return { text: data.toString('utf8'), binary: data.includes(0), mode: stat.mode & 0o7777 };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        if (!this.disk.has(target.abs)) this.disk.set(target.abs, null);
        return null;
      }
      if (code === 'EISDIR') throw new PatchVerificationError(`'${target.rel}' is a directory, not a file`);
      if (code === 'ENOTDIR') throw new PatchVerificationError(`a parent of '${target.rel}' is a file, not a directory`);
      throw new PatchVerificationError(`cannot read '${target.rel}': ${code ?? (error as Error).message}`);
    }
  }

  /** The disk's content hash of a path read earlier; undefined when it was not read. */
  diskHash(abs: string): string | null | undefined {
    return this.disk.get(abs);
  }

  plan(abs: string, write: PlannedWrite): void {
    this.overlay.set(abs, write === null ? null : { text: write.text, binary: false, mode: write.mode });
  }
}

// ---------------------------------------------------------------- planning

/**
 * How an operation relates to the files: only its before-state matches, only its
 * after-state, both (e.g. an append), or — for a delete — the file is already gone.
 */
type Verdict = 'before' | 'after' | 'both' | 'missing';
type Decision = 'apply' | 'skip';

interface Assessment {
  readonly verdict: Verdict;
  readonly writes: ReadonlyArray<readonly [Target, PlannedWrite]>;
  readonly change: FileChange;
}

interface PlanPass {
  /** Final write per absolute path, in first-write order. */
  readonly writes: Map<string, { readonly target: Target; readonly write: PlannedWrite }>;
  readonly changes: FileChange[];
  readonly verdicts: Verdict[];
  readonly view: WorkspaceView;
}

/**
 * Ambiguous operations are settled by the others: when a later operation is already
 * applied or everything else is, the patch was sent before and the ambiguous one was
 * done too; otherwise it is a fresh patch and applies as written.
 */
async function planOperations(operations: readonly ResolvedOperation[], retry: boolean): Promise<PlanPass> {
  const first = await runPass(operations, () => undefined);
  const decisions = decideAmbiguous(first.verdicts, retry);
  if (decisions.every((decision, i) => decision === defaultDecision(first.verdicts[i]))) return first;
  return runPass(operations, (i) => decisions[i]);
}

async function runPass(operations: readonly ResolvedOperation[], override: (index: number) => Decision | undefined): Promise<PlanPass> {
  const pass: PlanPass = { writes: new Map(), changes: [], verdicts: [], view: new WorkspaceView() };
  for (const [i, op] of operations.entries()) {
    const assessment = await assess(op, pass.view);
    const ambiguous = assessment.verdict === 'both' || assessment.verdict === 'missing';
    const decision = (ambiguous ? override(i) : undefined) ?? defaultDecision(assessment.verdict);
    if (decision === 'apply' && assessment.verdict === 'missing') {
      throw new PatchVerificationError(`file to delete does not exist: '${assessment.change.path}'`);
    }
    if (decision === 'apply') {
      for (const [target, write] of assessment.writes) {
        pass.view.plan(target.abs, write);
        // A later write to the same path replaces the earlier one but keeps its position.
        pass.writes.set(target.abs, { target, write });
      }
    }
    pass.changes.push(assessment.change);
    pass.verdicts.push(assessment.verdict);
  }
  return pass;
}

function defaultDecision(verdict: Verdict): Decision {
  return verdict === 'before' || verdict === 'both' ? 'apply' : 'skip';
}

function decideAmbiguous(verdicts: readonly Verdict[], retry: boolean): Decision[] {
  const anyAfter = verdicts.includes('after') || retry;
  const anyBefore = verdicts.includes('before');
  return verdicts.map((verdict, i) => {
    if (verdict === 'missing') return anyAfter ? 'skip' : 'apply';
    if (verdict !== 'both') return defaultDecision(verdict);
    const laterDone = verdicts.slice(i + 1).includes('after');
    return laterDone || (anyAfter && !anyBefore) ? 'skip' : 'apply';
  });
}

async function assess(op: ResolvedOperation, view: WorkspaceView): Promise<Assessment> {
  if (op.kind === 'add') {
    const change: FileChange = { kind: 'A', path: op.target.rel };
    const current = await view.read(op.target);
    if (current !== null && !current.binary && current.text === op.contents) return { verdict: 'after', writes: [], change };
    return { verdict: 'before', writes: [[op.target, { text: op.contents, mode: current?.mode }]], change };
  }
  if (op.kind === 'delete') {
    const change: FileChange = { kind: 'D', path: op.target.rel };
    const current = await view.read(op.target);
    return current === null ? { verdict: 'missing', writes: [], change } : { verdict: 'before', writes: [[op.target, null]], change };
  }
  return assessUpdate(op, view);
}

async function assessUpdate(op: Extract<ResolvedOperation, { kind: 'update' }>, view: WorkspaceView): Promise<Assessment> {
  const moveTo = op.moveTo !== null && op.moveTo.abs !== op.target.abs ? op.moveTo : null;
  const change: FileChange = moveTo ? { kind: 'M', path: moveTo.rel, movedFrom: op.target.rel } : { kind: 'M', path: op.target.rel };
  const source = await view.read(op.target);
  const destination = moveTo ? await view.read(moveTo) : null;
  if (source === null) {
    // A finished move leaves only the destination, holding the patched text.
    if (moveTo && destination && !destination.binary && isAfterState(destination.text, op.hunks)) return { verdict: 'after', writes: [], change };
    throw new PatchVerificationError(`file to update does not exist: '${op.target.rel}'`);
  }
  if (source.binary) throw new PatchVerificationError(`refusing to update '${op.target.rel}': it is a binary file (contains NUL bytes)`);
  const { lines } = splitFile(source.text);
  const forward = locateHunks(lines, op.hunks);
  const reverse = moveTo ? undefined : locateHunks(lines, op.hunks.map(invertHunk));
  if (!forward.ok) {
    if (reverse?.ok) return { verdict: 'after', writes: [], change };
    throw new PatchVerificationError(describeMiss(op.target.rel, op.hunks, forward));
  }
  const write: PlannedWrite = { text: applyMatches(source.text, forward.matches), mode: source.mode };
  const writes: Array<readonly [Target, PlannedWrite]> = moveTo ? [[moveTo, write], [op.target, null]] : [[op.target, write]];
  if (!reverse?.ok) return { verdict: 'before', writes, change };
  return { verdict: looksApplied(op.hunks, forward.matches, reverse.matches) ? 'after' : 'both', writes, change };
}

/**
 * Both states match. When every hunk's new lines sit exactly where its old lines (or its
 * `@@` header) were found, at least as exactly, the old lines are part of the new ones
 * already in place (context plus added lines): applying again would duplicate them.
 */
function looksApplied(hunks: readonly Hunk[], forward: readonly HunkMatch[], reverse: readonly HunkMatch[]): boolean {
  return forward.every((match, i) => {
    const anchored = match.length > 0 || hunks[i].context !== null;
    return anchored && reverse[i].start === match.start && reverse[i].pass <= match.pass;
  });
}

function isAfterState(text: string, hunks: readonly Hunk[]): boolean {
  return locateHunks(splitFile(text).lines, hunks.map(invertHunk)).ok;
}
