/**
 * Parses the Codex `apply_patch` grammar into typed file operations. Pure: no file
 * system access, no knowledge of whether the patch applies.
 *
 * ```
 * *** Begin Patch
 * *** Add File: path        then one '+' line per line of the new file
 * *** Delete File: path
 * *** Update File: path
 * *** Move to: path         optional, right after Update File
 * @@ optional header        then ' ' context, '-' removed and '+' added lines
 * *** End of File           optional, the hunk must match at the end of the file
 * *** End Patch
 * ```
 *
 * Tolerant where models are sloppy in harmless ways (blank lines around the patch, a
 * heredoc wrapper, padding around markers, CRLF), strict everywhere else: every error
 * names the line and what was expected there.
 */

const BEGIN_PATCH = '*** Begin Patch';
const END_PATCH = '*** End Patch';
const ADD_FILE = '*** Add File:';
const DELETE_FILE = '*** Delete File:';
const UPDATE_FILE = '*** Update File:';
const MOVE_TO = '*** Move to:';
const END_OF_FILE = '*** End of File';
const OPERATION_HEADERS = `'${ADD_FILE}', '${UPDATE_FILE}' or '${DELETE_FILE}'`;

/** One `@@` section of an Update File: lines to find (`oldLines`) and their replacement. */
export interface Hunk {
  /** Text after `@@ `: a line (e.g. a signature) to seek before looking for `oldLines`. */
  readonly context: string | null;
  /** Context and removed lines, in file order; empty for a pure insertion. */
  readonly oldLines: readonly string[];
  /** Context and added lines, in file order. */
  readonly newLines: readonly string[];
  /** Set by `*** End of File`: `oldLines` must match at the very end of the file. */
  readonly isEndOfFile: boolean;
  /** 1-based line in the patch text where the hunk starts, for error messages. */
  readonly line: number;
}

/** `*** Add File:` — create (or overwrite) a file with `contents`. */
export interface AddFileOperation {
  readonly kind: 'add';
  readonly path: string;
  /** The file's full text; every `+` line followed by a newline. */
  readonly contents: string;
}

/** `*** Delete File:` — remove a file. */
export interface DeleteFileOperation {
  readonly kind: 'delete';
  readonly path: string;
}

/** `*** Update File:` — edit a file in place by hunks, optionally moving it. */
export interface UpdateFileOperation {
  readonly kind: 'update';
  readonly path: string;
  /** Destination of `*** Move to:`, or null when the file stays where it is. */
  readonly moveTo: string | null;
  /** Applied in order; each is searched for after the previous one's match. */
  readonly hunks: readonly Hunk[];
}

/** One file operation of a patch. */
export type FileOperation = AddFileOperation | DeleteFileOperation | UpdateFileOperation;

/** A parsed patch: its file operations in patch order (never empty). */
export interface ParsedPatch {
  readonly operations: readonly FileOperation[];
}

/**
 * The patch text does not follow the grammar. `line` is the 1-based line of the
 * original text the message refers to; the message starts with `line N:`.
 */
export class PatchParseError extends Error {
  override readonly name = 'PatchParseError';

  constructor(
    readonly line: number,
    detail: string,
  ) {
    super(`line ${line}: ${detail}`);
  }
}

/**
 * Parses `apply_patch` text into its file operations. Leading and trailing blank lines
 * and a heredoc wrapper (`<<'EOF'` … `EOF`, optionally preceded by `apply_patch`) are
 * ignored; CRLF line endings are accepted. Paths are returned as written (resolving them
 * is the applier's job). Throws {@link PatchParseError} naming the offending line and
 * what was expected there; never returns a patch without operations.
 */
export function parsePatch(text: string): ParsedPatch {
  const lines = unwrapHeredoc(trimBlankEdges(splitLines(text)));
  checkBoundaries(lines);
  const cursor = new LineCursor(lines.slice(1, -1));
  const operations: FileOperation[] = [];
  let previous: FileOperation | undefined;
  while (!cursor.done) {
    previous = parseOperation(cursor, previous);
    operations.push(previous);
  }
  if (operations.length === 0) {
    throw new PatchParseError(lines[lines.length - 1].number, `expected ${OPERATION_HEADERS} before '${END_PATCH}'`);
  }
  return { operations };
}

interface SourceLine {
  readonly text: string;
  /** 1-based line number in the original text. */
  readonly number: number;
}

/** Walks the body lines; knows the line number of wherever it stands. */
class LineCursor {
  private index = 0;

  constructor(private readonly lines: readonly SourceLine[]) {}

  get done(): boolean {
    return this.index >= this.lines.length;
  }

  peek(): SourceLine {
    return this.lines[this.index];
  }

  advance(): SourceLine {
    return this.lines[this.index++];
  }
}

function splitLines(text: string): SourceLine[] {
  return text.split('\n').map((line, i) => ({ text: line.endsWith('\r') ? line.slice(0, -1) : line, number: i + 1 }));
}

function trimBlankEdges(lines: SourceLine[]): SourceLine[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start].text.trim() === '') start++;
  while (end > start && lines[end - 1].text.trim() === '') end--;
  return lines.slice(start, end);
}

/**
 * Models sometimes send the shell form `apply_patch <<'EOF' … EOF` as the tool input;
 * a shell would strip the wrapper, so we do too. Only when the patch does not already
 * start with the begin marker, and only when the closing delimiter matches.
 */
function unwrapHeredoc(lines: SourceLine[]): SourceLine[] {
  if (lines.length < 2 || lines[0].text.trim() === BEGIN_PATCH) return lines;
  const opener = /^(?:apply_patch\s+)?<<-?\s*(['"]?)([A-Za-z_]\w*)\1$/.exec(lines[0].text.trim());
  if (!opener || lines[lines.length - 1].text.trim() !== opener[2]) return lines;
  return trimBlankEdges(lines.slice(1, -1));
}

function checkBoundaries(lines: readonly SourceLine[]): void {
  if (lines.length === 0) throw new PatchParseError(1, `expected '${BEGIN_PATCH}', got an empty patch`);
  const first = lines[0];
  if (first.text.trim() !== BEGIN_PATCH) {
    throw new PatchParseError(first.number, `expected '${BEGIN_PATCH}', got ${quote(first.text)}`);
  }
  const last = lines[lines.length - 1];
  if (lines.length === 1 || last.text.trim() !== END_PATCH) {
    const got = lines.length === 1 ? 'the end of the input' : quote(last.text);
    throw new PatchParseError(last.number + (lines.length === 1 ? 1 : 0), `expected '${END_PATCH}' as the last line, got ${got}`);
  }
}

function parseOperation(cursor: LineCursor, previous: FileOperation | undefined): FileOperation {
  const header = cursor.advance();
  const marker = header.text.trim();
  if (marker.startsWith(ADD_FILE)) return parseAddFile(cursor, pathAfter(ADD_FILE, header));
  if (marker.startsWith(DELETE_FILE)) return { kind: 'delete', path: pathAfter(DELETE_FILE, header) };
  if (marker.startsWith(UPDATE_FILE)) return parseUpdateFile(cursor, header);
  // After an Add File the likely mistake is a content line without its '+'.
  const expected = previous?.kind === 'add' ? `a '+' line or ${OPERATION_HEADERS}` : OPERATION_HEADERS;
  throw new PatchParseError(header.number, `expected ${expected}, got ${quote(header.text)}`);
}

function pathAfter(marker: string, line: SourceLine): string {
  const path = line.text.trim().slice(marker.length).trim();
  if (path === '') throw new PatchParseError(line.number, `'${marker}' must be followed by a path`);
  return path;
}

function parseAddFile(cursor: LineCursor, path: string): AddFileOperation {
  let contents = '';
  while (!cursor.done && cursor.peek().text.startsWith('+')) {
    contents += `${cursor.advance().text.slice(1)}\n`;
  }
  return { kind: 'add', path, contents };
}

function parseUpdateFile(cursor: LineCursor, header: SourceLine): UpdateFileOperation {
  const path = pathAfter(UPDATE_FILE, header);
  let moveTo: string | null = null;
  if (!cursor.done && cursor.peek().text.trim().startsWith(MOVE_TO)) moveTo = pathAfter(MOVE_TO, cursor.advance());
  const hunks: Hunk[] = [];
  while (!cursor.done) {
    const line = cursor.peek();
    // Blank lines between hunks are layout, not content.
    if (line.text.trim() === '') {
      cursor.advance();
      continue;
    }
    if (line.text.startsWith('*')) break;
    hunks.push(parseHunk(cursor, hunks.length === 0));
  }
  // A bare rename is harmless; an update that changes nothing is almost surely a mistake.
  if (hunks.length === 0 && moveTo === null) {
    throw new PatchParseError(header.number, `'${UPDATE_FILE} ${path}' has no hunks: expected '@@' followed by hunk lines`);
  }
  return { kind: 'update', path, moveTo, hunks };
}

function parseHunk(cursor: LineCursor, isFirst: boolean): Hunk {
  const start = cursor.peek();
  const context = hunkHeaderContext(start.text);
  if (context !== undefined) {
    cursor.advance();
  } else if (!isFirst) {
    // Only the first hunk may omit its '@@'; anything else here is a malformed line.
    throw new PatchParseError(start.number, `expected a hunk line starting with ' ', '+' or '-', '@@', or ${OPERATION_HEADERS}, got ${quote(start.text)}`);
  }
  const oldLines: string[] = [];
  const newLines: string[] = [];
  let isEndOfFile = false;
  while (!cursor.done) {
    const { text } = cursor.peek();
    if (text.trim() === END_OF_FILE) {
      cursor.advance();
      isEndOfFile = true;
      break;
    }
    const prefix = text.charAt(0);
    if (prefix !== '' && prefix !== ' ' && prefix !== '+' && prefix !== '-') break;
    cursor.advance();
    // An empty line inside a hunk stands for an empty context line (editors strip the space).
    if (prefix !== '+') oldLines.push(text.slice(1));
    if (prefix !== '-') newLines.push(text.slice(1));
  }
  if (oldLines.length === 0 && newLines.length === 0) {
    throw new PatchParseError(start.number, `hunk has no lines: expected lines starting with ' ', '+' or '-' after ${quote(start.text)}`);
  }
  return { context: context ?? null, oldLines, newLines, isEndOfFile, line: start.number };
}

/** `@@` → null, `@@ text` → 'text', anything else → undefined (not a header). */
function hunkHeaderContext(text: string): string | null | undefined {
  if (text.trimEnd() === '@@') return null;
  if (text.startsWith('@@ ')) return text.slice(3);
  return undefined;
}

function quote(text: string): string {
  const clipped = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return `'${clipped}'`;
}
