/**
 * Applies a parsed `apply_patch` patch to a workspace, all or nothing: every path is
 * checked and every hunk located against an in-memory view of the files first, and only
 * then are the new contents written (each file atomically, in patch order).
 *
 * Retry-safe: the activity that calls this may run again after a crash mid-write or
 * after a successful write whose result was lost. Each operation is therefore judged
 * against both the state before it (its hunks match) and the state after it (its new
 * lines are already in place); operations already done are skipped, so re-running a
 * fully applied patch changes nothing and a half-applied one is completed.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parsePatch, PatchParseError, type FileOperation, type Hunk } from './parser';

/** One changed file as reported to the model: Added, Modified (maybe moved) or Deleted. */
export interface FileChange {
  readonly kind: 'A' | 'M' | 'D';
  /** Relative to the workspace, `/`-separated; the destination for a move. */
  readonly path: string;
  /** The source of a `*** Move to:`, relative to the workspace. */
  readonly movedFrom?: string;
}

/**
 * The result of {@link applyPatch}. On success `changes` lists every operation of the
 * patch in order, and `alreadyApplied` is true when the files already had all of them
 * (nothing was written). On failure nothing was written and `error` explains why.
 */
export type ApplyPatchOutcome =
  | { ok: true; changes: FileChange[]; alreadyApplied: boolean }
  | { ok: false; error: string };

/** Every failure message starts with this, as in Codex. */
export const VERIFICATION_FAILED = 'apply_patch verification failed: ';

/** Restrictions on top of staying inside the workspace (set by the sandbox). */
export interface ApplyPatchOptions {
  /** Absolute paths (files or directories) under which nothing may be added, changed or deleted. */
  readonly readOnlyPaths?: readonly string[];
  /**
   * True when this is a retry of an activity that may already have applied the patch:
   * a file to delete that is missing then counts as deleted by the earlier attempt.
   */
  readonly retry?: boolean;
}

/**
 * Parses `patchText` and applies it to the files under `cwd` (an absolute workspace
 * path). Paths that are absolute, leave the workspace or pass through a symlink that
 * leads out of it are refused, and so are paths under `options.readOnlyPaths` (also
 * through symlinks). Nothing is written unless the whole patch is valid and
 * every hunk locates. Never throws for a bad patch or a refused path: those return
 * `{ ok: false, error }` with the error starting with {@link VERIFICATION_FAILED}; only
 * unexpected infrastructure failures throw.
 */
export async function applyPatch(patchText: string, cwd: string, options: ApplyPatchOptions = {}): Promise<ApplyPatchOutcome> {
  let plan: PatchPlan;
  try {
    const { operations } = parsePatch(patchText);
    const resolved = await resolveOperations(operations, cwd, options.readOnlyPaths ?? []);
    plan = await planPatch(resolved, options.retry ?? false);
  } catch (error) {
    if (error instanceof PatchParseError) return { ok: false, error: `${VERIFICATION_FAILED}invalid patch: ${error.message}` };
    if (error instanceof PatchVerificationError) return { ok: false, error: `${VERIFICATION_FAILED}${error.message}` };
    throw error;
  }
  try {
    await writePlan(plan.writes);
  } catch (error) {
    // Verification passed, so this is the disk refusing (permissions, space); retrying is safe.
    return { ok: false, error: `apply_patch failed while writing files: ${(error as Error).message}` };
  }
  return { ok: true, changes: plan.changes, alreadyApplied: plan.writes.size === 0 };
}

/** The patch cannot be applied to these files; the message is for the model. */
class PatchVerificationError extends Error {
  override readonly name = 'PatchVerificationError';
}

// ---------------------------------------------------------------- paths

interface Target {
  readonly abs: string;
  /** Relative to the workspace, `/`-separated, for messages and the change list. */
  readonly rel: string;
}

type ResolvedOperation =
  | { readonly kind: 'add'; readonly target: Target; readonly contents: string }
  | { readonly kind: 'delete'; readonly target: Target }
  | { readonly kind: 'update'; readonly target: Target; readonly moveTo: Target | null; readonly hunks: readonly Hunk[] };

/** A path nothing may be written under, as given and with symlinks resolved. */
interface ReadOnlyPath {
  readonly given: string;
  readonly real: string;
}

async function resolveOperations(operations: readonly FileOperation[], cwd: string, readOnlyPaths: readonly string[]): Promise<ResolvedOperation[]> {
  const realCwd = await fs.realpath(cwd).catch((error: NodeJS.ErrnoException) => {
    // A missing workspace is not the patch's fault, but retrying cannot fix it either.
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw new PatchVerificationError(`the workspace '${cwd}' does not exist (${error.code})`);
    throw error;
  });
  const readOnly = await Promise.all(readOnlyPaths.map(async (given) => ({ given, real: await fs.realpath(given).catch(() => given) })));
  const resolve = (raw: string): Promise<Target> => resolveTarget(cwd, realCwd, raw, readOnly);
  const resolved: ResolvedOperation[] = [];
  for (const op of operations) {
    if (op.kind === 'update') {
      const moveTo = op.moveTo === null ? null : await resolve(op.moveTo);
      resolved.push({ kind: 'update', target: await resolve(op.path), moveTo, hunks: op.hunks });
    } else {
      resolved.push(op.kind === 'add' ? { kind: 'add', target: await resolve(op.path), contents: op.contents } : { kind: 'delete', target: await resolve(op.path) });
    }
  }
  return resolved;
}

/** Lexical containment first, then the real path of the deepest existing part, so symlinks cannot lead out. */
async function resolveTarget(cwd: string, realCwd: string, raw: string, readOnly: readonly ReadOnlyPath[]): Promise<Target> {
  if (path.isAbsolute(raw)) {
    throw new PatchVerificationError(`absolute paths are not allowed: '${raw}' (use a path relative to the workspace)`);
  }
  const abs = path.resolve(cwd, raw);
  const rel = path.relative(cwd, abs);
  if (rel === '') throw new PatchVerificationError(`path '${raw}' is the workspace itself, not a file`);
  if (!isInside(cwd, abs)) throw new PatchVerificationError(`path '${raw}' resolves outside the workspace`);
  const existing = await deepestExisting(abs);
  const real = await fs.realpath(existing).catch(() => {
    throw new PatchVerificationError(`path '${raw}' goes through a symlink whose target does not exist`);
  });
  if (!isInside(realCwd, real)) throw new PatchVerificationError(`path '${raw}' goes through a symlink that points outside the workspace`);
  const blocked = readOnly.find((p) => isInside(p.given, abs) || isInside(p.real, real));
  if (blocked) {
    const shown = isInside(cwd, blocked.given) ? path.relative(cwd, blocked.given).split(path.sep).join('/') : blocked.given;
    throw new PatchVerificationError(`path '${raw}' is inside '${shown}', which the sandbox keeps read-only`);
  }
  return { abs, rel: rel.split(path.sep).join('/') };
}

async function deepestExisting(abs: string): Promise<string> {
  let candidate = abs;
  for (;;) {
    try {
      await fs.lstat(candidate);
      return candidate;
    } catch {
      const parent = path.dirname(candidate);
      if (parent === candidate) return candidate;
      candidate = parent;
    }
  }
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

// ---------------------------------------------------------------- file view

interface FileSnapshot {
  readonly text: string;
  readonly binary: boolean;
  /** Permission bits, kept when the file is rewritten or moved. */
  readonly mode: number | undefined;
}

/** Null deletes the file. */
type PlannedWrite = { readonly text: string; readonly mode: number | undefined } | null;

/** The workspace as the patch sees it: the disk plus the operations planned so far. */
class WorkspaceView {
  private readonly overlay = new Map<string, FileSnapshot | null>();

  async read(target: Target): Promise<FileSnapshot | null> {
    const planned = this.overlay.get(target.abs);
    if (planned !== undefined) return planned;
    try {
      const [data, stat] = await Promise.all([fs.readFile(target.abs), fs.stat(target.abs)]);
      return { text: data.toString('utf8'), binary: data.includes(0), mode: stat.mode & 0o7777 };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      if (code === 'EISDIR') throw new PatchVerificationError(`'${target.rel}' is a directory, not a file`);
      if (code === 'ENOTDIR') throw new PatchVerificationError(`a parent of '${target.rel}' is a file, not a directory`);
      throw new PatchVerificationError(`cannot read '${target.rel}': ${code ?? (error as Error).message}`);
    }
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
  readonly writes: ReadonlyArray<readonly [string, PlannedWrite]>;
  readonly change: FileChange;
}

interface PatchPlan {
  /** In first-write order, so a crash leaves a prefix of the patch applied. */
  readonly writes: Map<string, PlannedWrite>;
  readonly changes: FileChange[];
  readonly verdicts: Verdict[];
}

/**
 * Ambiguous operations are settled by the others: when a later operation is already
 * applied (writes go in patch order) or everything else is, this is a retry and the
 * ambiguous one was done too; otherwise it is a fresh patch and applies as written.
 */
async function planPatch(operations: readonly ResolvedOperation[], retry = false): Promise<PatchPlan> {
  const first = await runPass(operations, new WorkspaceView(), () => undefined);
  const decisions = decideAmbiguous(first.verdicts, retry);
  if (decisions.every((decision, i) => decision === defaultDecision(first.verdicts[i]))) return first;
  return runPass(operations, new WorkspaceView(), (i) => decisions[i]);
}

async function runPass(
  operations: readonly ResolvedOperation[],
  view: WorkspaceView,
  override: (index: number) => Decision | undefined,
): Promise<PatchPlan> {
  const plan: PatchPlan = { writes: new Map(), changes: [], verdicts: [] };
  for (const [i, op] of operations.entries()) {
    const assessment = await assess(op, view);
    const ambiguous = assessment.verdict === 'both' || assessment.verdict === 'missing';
    const decision = (ambiguous ? override(i) : undefined) ?? defaultDecision(assessment.verdict);
    if (decision === 'apply' && assessment.verdict === 'missing') {
      throw new PatchVerificationError(`file to delete does not exist: '${assessment.change.path}'`);
    }
    if (decision === 'apply') {
      for (const [abs, write] of assessment.writes) {
        view.plan(abs, write);
        plan.writes.set(abs, write);
      }
    }
    plan.changes.push(assessment.change);
    plan.verdicts.push(assessment.verdict);
  }
  return plan;
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
    return { verdict: 'before', writes: [[op.target.abs, { text: op.contents, mode: current?.mode }]], change };
  }
  if (op.kind === 'delete') {
    const change: FileChange = { kind: 'D', path: op.target.rel };
    const current = await view.read(op.target);
    return current === null ? { verdict: 'missing', writes: [], change } : { verdict: 'before', writes: [[op.target.abs, null]], change };
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
  const writes: Array<readonly [string, PlannedWrite]> = moveTo ? [[moveTo.abs, write], [op.target.abs, null]] : [[op.target.abs, write]];
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

/** The hunk that undoes `hunk`; its old lines are what the file holds after `hunk` applied. */
function invertHunk(hunk: Hunk): Hunk {
  // A pure insertion without a header goes at the end of the file, so that is where to look.
  const atEnd = hunk.isEndOfFile || (hunk.oldLines.length === 0 && hunk.context === null);
  return { ...hunk, oldLines: hunk.newLines, newLines: hunk.oldLines, isEndOfFile: atEnd };
}

function describeMiss(rel: string, hunks: readonly Hunk[], miss: Extract<LocateResult, { ok: false }>): string {
  const hunk = hunks[miss.hunkIndex];
  const which = `hunk ${miss.hunkIndex + 1} of ${hunks.length} (patch line ${hunk.line})`;
  const unchanged = 'No files were changed; re-read the file and retry with context lines copied exactly.';
  if (miss.missing === 'context') return `could not find the context line '@@ ${hunk.context}' of ${which} in '${rel}'. ${unchanged}`;
  const where = hunk.context === null ? '' : ` after '@@ ${hunk.context}'`;
  const eof = hunk.isEndOfFile ? ' at the end of the file' : '';
  return `could not find the expected lines of ${which} in '${rel}'${where}${eof}. ${unchanged}\nExpected lines:\n${expectedLines(hunk.oldLines)}`;
}

/** Lines of a failed hunk shown back to the model; a huge hunk must not make a huge output. */
const MAX_EXPECTED_LINES = 20;
const MAX_EXPECTED_LINE_CHARS = 300;

function expectedLines(lines: readonly string[]): string {
  const shown = lines.slice(0, MAX_EXPECTED_LINES).map((l) => (l.length > MAX_EXPECTED_LINE_CHARS ? `${l.slice(0, MAX_EXPECTED_LINE_CHARS)}…` : l));
  const rest = lines.length - shown.length;
  return rest > 0 ? `${shown.join('\n')}\n[... ${rest} more expected lines not shown]` : shown.join('\n');
}

// ---------------------------------------------------------------- matching

interface HunkMatch {
  readonly start: number;
  readonly length: number;
  readonly replacement: readonly string[];
  /** Which comparison found it (0 = exact); lower is more trustworthy. */
  readonly pass: number;
}

type LocateResult = { ok: true; matches: HunkMatch[] } | { ok: false; hunkIndex: number; missing: 'context' | 'lines' };

/** Increasingly forgiving line comparisons, tried in order as Codex does. */
const COMPARISONS: ReadonlyArray<(line: string) => string> = [
  (line) => line,
  (line) => line.trimEnd(),
  (line) => line.trim(),
  (line) => normalisePunctuation(line.trim()),
];

/** Locates each hunk in order, each after the previous one's match (or `@@` header). */
function locateHunks(lines: readonly string[], hunks: readonly Hunk[]): LocateResult {
  const seeker = new Seeker(lines);
  const matches: HunkMatch[] = [];
  let cursor = 0;
  for (const [hunkIndex, hunk] of hunks.entries()) {
    if (hunk.context !== null) {
      const header = seeker.seek([hunk.context], cursor, false);
      if (!header) return { ok: false, hunkIndex, missing: 'context' };
      cursor = header.index + 1;
    }
    if (hunk.oldLines.length === 0) {
      // A pure insertion goes right after its header, or at the end of the file without one.
      const at = hunk.context !== null ? cursor : endInsertionPoint(lines);
      matches.push({ start: at, length: 0, replacement: hunk.newLines, pass: 0 });
      continue;
    }
    const match = locateLines(seeker, hunk, cursor);
    if (!match) return { ok: false, hunkIndex, missing: 'lines' };
    matches.push(match);
    cursor = match.start + match.length;
  }
  return { ok: true, matches };
}

function locateLines(seeker: Seeker, hunk: Hunk, cursor: number): HunkMatch | undefined {
  const found = seeker.seek(hunk.oldLines, cursor, hunk.isEndOfFile);
  if (found) return { start: found.index, length: hunk.oldLines.length, replacement: hunk.newLines, pass: found.pass };
  // A blank line before the next marker parses as an empty context line; retry without it.
  if (hunk.oldLines[hunk.oldLines.length - 1] !== '') return undefined;
  const oldLines = hunk.oldLines.slice(0, -1);
  const newLines = hunk.newLines[hunk.newLines.length - 1] === '' ? hunk.newLines.slice(0, -1) : hunk.newLines;
  const retry = oldLines.length === 0 ? undefined : seeker.seek(oldLines, cursor, hunk.isEndOfFile);
  return retry && { start: retry.index, length: oldLines.length, replacement: newLines, pass: retry.pass };
}

/** Finds a run of lines; normalises the file once per comparison, not once per candidate. */
class Seeker {
  private readonly normalised: Array<readonly string[] | undefined> = [];

  constructor(private readonly lines: readonly string[]) {}

  seek(pattern: readonly string[], from: number, atEnd: boolean): { index: number; pass: number } | undefined {
    const last = this.lines.length - pattern.length;
    const first = atEnd ? last : from;
    if (last < 0 || first < from) return undefined;
    for (let pass = 0; pass < COMPARISONS.length; pass++) {
      const index = this.seekWith(pass, pattern, first, last);
      if (index !== undefined) return { index, pass };
    }
    return undefined;
  }

  private seekWith(pass: number, pattern: readonly string[], first: number, last: number): number | undefined {
    const compare = COMPARISONS[pass];
    const lines = (this.normalised[pass] ??= this.lines.map(compare));
    const wanted = pattern.map(compare);
    for (let start = first; start <= last; start++) {
      let j = 0;
      while (j < wanted.length && lines[start + j] === wanted[j]) j++;
      if (j === wanted.length) return start;
    }
    return undefined;
  }
}

/** Before a trailing empty line (the file ends in a blank line), else at the very end. */
function endInsertionPoint(lines: readonly string[]): number {
  return lines.length > 0 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
}

/** Typographic dashes, quotes and spaces that models substitute for ASCII ones. */
function normalisePunctuation(line: string): string {
  return line
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/[\u2018\u2019\u201A\u201B]/g, "'")
    .replace(/[\u201C\u201D\u201E\u201F]/g, '"')
    .replace(/[\u00A0\u2002-\u200A\u202F\u205F\u3000]/g, ' ');
}

// ---------------------------------------------------------------- text

interface SplitFile {
  readonly lines: string[];
  readonly eol: '\n' | '\r\n';
}

/** Lines without their terminators; a final newline does not make an extra empty line. */
function splitFile(text: string): SplitFile {
  const firstBreak = text.indexOf('\n');
  const eol = firstBreak > 0 && text[firstBreak - 1] === '\r' ? '\r\n' : '\n';
  const lines = text.split(eol === '\r\n' ? /\r?\n/ : '\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return { lines, eol };
}

/** Splices the matches in (in file order) and ends the file with a newline, as Codex does. */
function applyMatches(text: string, matches: readonly HunkMatch[]): string {
  const { lines, eol } = splitFile(text);
  const ordered = [...matches].sort((a, b) => a.start - b.start);
  const out: string[] = [];
  let position = 0;
  for (const match of ordered) {
    while (position < match.start) out.push(lines[position++]);
    for (const line of match.replacement) out.push(line);
    position = Math.max(position, match.start + match.length);
  }
  while (position < lines.length) out.push(lines[position++]);
  return out.length === 0 ? '' : out.join(eol) + eol;
}

// ---------------------------------------------------------------- writing

async function writePlan(writes: ReadonlyMap<string, PlannedWrite>): Promise<void> {
  for (const [abs, write] of writes) {
    if (write === null) await fs.rm(abs, { force: true });
    else await writeAtomically(abs, write.text, write.mode);
  }
}

/** Temp file in the same directory, flushed, then renamed: readers never see half a file. */
async function writeAtomically(abs: string, text: string, mode: number | undefined): Promise<void> {
  const dir = path.dirname(abs);
  await fs.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.${path.basename(abs)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(temp, 'wx');
    try {
      await handle.writeFile(text, 'utf8');
      if (mode !== undefined) await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, abs);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
