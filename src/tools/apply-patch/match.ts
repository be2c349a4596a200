/**
 * Finding hunks in a file's lines and splicing them in, as Codex does: each hunk is
 * sought after the previous one, first exactly, then with increasingly forgiving line
 * comparisons. Pure: text in, matches and text out.
 */
import type { Hunk } from './parser';

/** The hunk that undoes `hunk`; its old lines are what the file holds after `hunk` applied. */
export function invertHunk(hunk: Hunk): Hunk {
  // A pure insertion without a header goes at the end of the file, so that is where to look.
  const atEnd = hunk.isEndOfFile || (hunk.oldLines.length === 0 && hunk.context === null);
  return { ...hunk, oldLines: hunk.newLines, newLines: hunk.oldLines, isEndOfFile: atEnd };
}

/** What the model is told when a hunk's `@@` line or lines are not in the file. */
export function describeMiss(rel: string, hunks: readonly Hunk[], miss: Extract<LocateResult, { ok: false }>): string {
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

/** Where a hunk was found and what replaces the lines there. */
export interface HunkMatch {
  readonly start: number;
  readonly length: number;
  readonly replacement: readonly string[];
  /** Which comparison found it (0 = exact); lower is more trustworthy. */
  readonly pass: number;
}

/** Every hunk found, or the first one that was not (and which part of it). */
export type LocateResult = { ok: true; matches: HunkMatch[] } | { ok: false; hunkIndex: number; missing: 'context' | 'lines' };

/** Increasingly forgiving line comparisons, tried in order as Codex does. */
const COMPARISONS: ReadonlyArray<(line: string) => string> = [
  (line) => line,
  (line) => line.trimEnd(),
  (line) => line.trim(),
  (line) => normalisePunctuation(line.trim()),
];

/** Locates each hunk in order, each after the previous one's match (or `@@` header). */
export function locateHunks(lines: readonly string[], hunks: readonly Hunk[]): LocateResult {
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

/** A file's lines and the line ending it uses. */
export interface SplitFile {
  readonly lines: string[];
  readonly eol: '\n' | '\r\n';
}

/** Lines without their terminators; a final newline does not make an extra empty line. */
export function splitFile(text: string): SplitFile {
  const firstBreak = text.indexOf('\n');
  const eol = firstBreak > 0 && text[firstBreak - 1] === '\r' ? '\r\n' : '\n';
  const lines = text.split(eol === '\r\n' ? /\r?\n/ : '\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return { lines, eol };
}

/** Splices the matches in (in file order) and ends the file with a newline, as Codex does. */
export function applyMatches(text: string, matches: readonly HunkMatch[]): string {
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
