/**
 * The text `exec_command` and `write_stdin` give the model, in Codex 0.171's layout
 * (captured from the real CLI against a scripted server):
 *
 * ```
 * Chunk ID: 8c1d45
 * Wall time: 1.0015 seconds
 * Process running with session ID 96147      (or: Process exited with code 3)
 * Original token count: 5
 * Output:
 * print(6*7)\r\n42\r\n>>>
 * ```
 *
 * Tokens are counted as Codex approximates them, four bytes each (rounded up). Output over
 * `max_output_tokens` keeps its first and last halves of the budget around
 * `…N tokens truncated…`, under a warning line and the total line count. Pure.
 */

/** Bytes per token in Codex's approximation. */
const BYTES_PER_TOKEN = 4;
/** The output budget when the model gives none (Codex's default). */
export const DEFAULT_MAX_OUTPUT_TOKENS = 10_000;

/** Tokens of `text` as Codex approximates them: UTF-8 bytes / 4, rounded up. */
export function approxTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN);
}

/** What one chunk of a session says. */
export interface ExecChunkReport {
  readonly chunkId: string;
  readonly wallTimeMs: number;
  /** The exit code when the command has ended; null while it runs in session `sessionId`. */
  readonly exitCode: number | null;
  readonly sessionId: number;
  readonly output: string;
  readonly maxOutputTokens: number;
}

/** The output body within `maxTokens`: the text itself, or Codex's truncated form. */
export function truncateToTokens(text: string, maxTokens: number): string {
  const original = approxTokens(text);
  if (original <= maxTokens) return text;
  const bytes = Buffer.from(text, 'utf8');
  const half = Math.floor((maxTokens * BYTES_PER_TOKEN) / 2);
  const head = utf8Prefix(bytes, half);
  const tail = utf8Suffix(bytes, half);
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  return (
    `Warning: truncated output (original token count: ${original})\nTotal output lines: ${lines}\n\n` +
    `${head}…${original - maxTokens} tokens truncated…${tail}`
  );
}

/** The whole text of a chunk for the model. */
export function formatExecChunk(report: ExecChunkReport): string {
  const status = report.exitCode === null ? `Process running with session ID ${report.sessionId}` : `Process exited with code ${report.exitCode}`;
  return [
    `Chunk ID: ${report.chunkId}`,
    `Wall time: ${(report.wallTimeMs / 1000).toFixed(4)} seconds`,
    status,
    `Original token count: ${approxTokens(report.output)}`,
    'Output:',
    truncateToTokens(report.output, report.maxOutputTokens),
  ].join('\n');
}

/** The output body of a formatted chunk (what follows `Output:`), for displays. */
export function execChunkBody(text: string): string {
  const marker = '\nOutput:\n';
  const at = text.indexOf(marker);
  return at >= 0 ? text.slice(at + marker.length) : text;
}

/** The first `max` bytes of `bytes`, not cutting a UTF-8 character. */
function utf8Prefix(bytes: Buffer, max: number): string {
  let end = Math.min(max, bytes.length);
  while (end > 0 && end < bytes.length && (bytes[end] & 0xc0) === 0x80) end -= 1;
  return bytes.subarray(0, end).toString('utf8');
}

/** The last `max` bytes of `bytes`, not cutting a UTF-8 character. */
function utf8Suffix(bytes: Buffer, max: number): string {
  let start = Math.max(0, bytes.length - max);
  while (start < bytes.length && (bytes[start] & 0xc0) === 0x80) start += 1;
  return bytes.subarray(start).toString('utf8');
}
