/**
 * What `unroll exec` (and `exec resume`, `exec fork`) reads and writes around a turn, as
 * Codex 0.171's `exec` does: the prompt (an argument, `-` or nothing for stdin, and piped
 * stdin appended as a `<stdin>` block to a prompt given as an argument), the git
 * repository check, the `--output-schema` file and the `-o/--output-last-message` file.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkPromptSize } from './prompt-limit';

/** A problem with the command line or a file it names (exit 2). */
export class ExecUsageError extends Error {
  override readonly name: string = 'ExecUsageError';
}

/**
 * The workspace is not inside a git repository and `--skip-git-repo-check` was not given.
 * Codex's message and exit status (1): a guard against running an agent somewhere that
 * cannot be reviewed and reverted with git.
 */
export class NotInGitRepoError extends Error {
  override readonly name = 'NotInGitRepoError';
  constructor(readonly dir: string) {
    super('Not inside a trusted directory and --skip-git-repo-check was not specified.');
  }
}

/** Where exec's stdin comes from. */
export interface ExecStdin {
  /** All of standard input. */
  readonly read: () => Promise<string>;
  /** True when stdin is a terminal (then it is never read unless the prompt is `-`). */
  readonly isTTY: boolean;
  /**
   * Told when reading a piped stdin has not finished after {@link STDIN_NOTICE_AFTER_MS}:
   * it waits until the writer closes the pipe, which should not be a silent hang (Codex
   * says the same at once; a pipe that is closed at once stays quiet here).
   */
  readonly onRead?: (message: string) => void;
}

/** How long a stdin read may wait before the user is told what exec waits for. */
export const STDIN_NOTICE_AFTER_MS = 1_000;

async function readStdin(stdin: ExecStdin, message: string): Promise<string> {
  const timer = stdin.onRead ? setTimeout(() => stdin.onRead?.(message), STDIN_NOTICE_AFTER_MS) : undefined;
  try {
    return await stdin.read();
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The prompt, as Codex builds it: `words` joined; none or `-`: all of stdin; words and a
 * piped, non-empty stdin: the words, a blank line, then `<stdin>\n…\n</stdin>`. Throws
 * {@link ExecUsageError} for an empty prompt, `PromptTooLargeError` for a huge one.
 */
export async function execPrompt(words: readonly string[], stdin: ExecStdin): Promise<string> {
  const fromStdin = words.length === 0 || (words.length === 1 && words[0] === '-');
  let text: string;
  if (fromStdin) {
    if (words.length === 0 && stdin.isTTY) throw new ExecUsageError('no prompt: give it as an argument, pipe it on stdin, or use "-" to read it from stdin');
    text = await readStdin(stdin, 'Reading prompt from stdin...');
    if (text.trim() === '') throw new ExecUsageError('no prompt provided via stdin');
  } else {
    text = words.join(' ');
    if (text.trim() === '') throw new ExecUsageError('the prompt is empty');
    const piped = stdin.isTTY ? '' : await readStdin(stdin, 'Reading additional input from stdin (close it, or redirect it from /dev/null)...');
    if (piped.trim() !== '') text = `${text}\n\n<stdin>\n${piped.endsWith('\n') ? piped : `${piped}\n`}</stdin>`;
  }
  checkPromptSize(text);
  return text;
}

/** The root of the git repository that contains `dir` (a `.git` directory or file), or null. */
export function gitRepoRoot(dir: string): string | null {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (existsSync(path.join(current, '.git'))) return current;
    if (path.dirname(current) === current) return null;
  }
}

/** Throws {@link NotInGitRepoError} unless `dir` is inside a git repository. */
export function assertInGitRepo(dir: string): void {
  if (gitRepoRoot(dir) === null) throw new NotInGitRepoError(dir);
}

/**
 * Reads `--output-schema FILE`: a JSON Schema, which must be a JSON object. Throws
 * {@link ExecUsageError} naming the file and what is wrong.
 */
export async function readOutputSchema(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new ExecUsageError(`--output-schema: cannot read ${file}: ${(err as Error).message}`);
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (err) {
    throw new ExecUsageError(`--output-schema: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new ExecUsageError(`--output-schema: ${file} must hold a JSON Schema object, not ${Array.isArray(schema) ? 'an array' : schema === null ? 'null' : typeof schema}`);
  }
  return schema as Record<string, unknown>;
}

/**
 * Writes the turn's last agent message to `-o FILE` (an empty file when the turn ended
 * without one, as Codex does). Throws {@link ExecUsageError} naming the file.
 */
export async function writeLastMessage(file: string, text: string | null): Promise<void> {
  try {
    await fs.writeFile(file, text ?? '');
  } catch (err) {
    throw new ExecUsageError(`--output-last-message: cannot write ${file}: ${(err as Error).message}`);
  }
}

/** Checks before the run that `-o FILE` can be written (its directory exists), so a long turn's answer is not lost at the end. */
export async function assertWritableTarget(file: string): Promise<void> {
  const dir = path.dirname(file);
  try {
    if (!(await fs.stat(dir)).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new ExecUsageError(`--output-last-message: cannot write ${file}: its directory ${dir} ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `is unusable (${(err as Error).message})`}`);
  }
}
