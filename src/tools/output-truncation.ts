/**
 * Head + tail truncation of command output to a byte budget, as the Codex CLI does it:
 * the model sees the first half of the budget and the last half, joined by a one-line
 * marker that says how much was left out. The start of a log usually says what ran and
 * the end says how it finished, so both are worth more than the middle.
 *
 * Two entry points share one implementation: {@link HeadTailCollector} consumes a byte
 * stream with bounded memory (the shell tool feeds it pipe chunks), and
 * {@link truncateHeadTail} applies the same rule to text that is already in memory.
 */

/** Default number of output bytes the model sees from one command (10 KiB). */
export const DEFAULT_OUTPUT_BUDGET_BYTES = 10 * 1024;

const NEWLINE = 0x0a;

/** What {@link HeadTailCollector.finish} reports about the collected stream. */
export interface CollectedOutput {
  /** Head, marker line and tail; the whole stream when nothing was omitted. */
  readonly text: string;
  /** True when bytes were omitted and the marker is present. */
  readonly truncated: boolean;
  /** Every byte pushed, kept or not. */
  readonly totalBytes: number;
  /** Lines in the whole stream; a final line without a trailing newline counts. */
  readonly totalLines: number;
  /** Bytes between head and tail that the model does not see. */
  readonly omittedBytes: number;
  /** Line breaks inside the omitted bytes. */
  readonly omittedLines: number;
}

/** The result of {@link truncateHeadTail}: {@link CollectedOutput} without the byte total. */
export type TruncatedText = Omit<CollectedOutput, 'totalBytes'>;

/**
 * Formats the single marker line that replaces omitted output, e.g.
 * `[... omitted 5678 bytes (901 lines) ...]`. The line never contains a newline.
 */
export function omissionMarker(omittedBytes: number, omittedLines: number): string {
  return `[... omitted ${omittedBytes} bytes (${omittedLines} lines) ...]`;
}

/**
 * Collects a byte stream keeping only its first `budget/2` bytes and a rolling window of
 * its last `budget/2` bytes, while counting every byte and line. Memory stays at about the
 * budget plus one chunk however much is pushed, so a command printing 50 MB costs tens of
 * kilobytes. Decoding happens once in {@link finish}: UTF-8 with U+FFFD for invalid
 * bytes, so binary output never throws, and head and tail are cut on character
 * boundaries. Throws `RangeError` for a budget that is not a positive integer.
 */
export class HeadTailCollector {
  private readonly headBudget: number;
  private readonly tailBudget: number;
  private readonly headChunks: Buffer[] = [];
  private headBytes = 0;
  /** Newest chunks whose combined size is at least the tail budget (when available). */
  private readonly tailChunks: Buffer[] = [];
  private tailBytes = 0;
  private totalBytes = 0;
  private newlines = 0;
  private lastByte: number | undefined;

  constructor(budgetBytes: number = DEFAULT_OUTPUT_BUDGET_BYTES) {
    if (!Number.isInteger(budgetBytes) || budgetBytes <= 0) {
      throw new RangeError(`output budget must be a positive integer, got ${budgetBytes}`);
    }
    this.headBudget = Math.floor(budgetBytes / 2);
    this.tailBudget = budgetBytes - this.headBudget;
  }

  /** Bytes pushed so far. */
  get bytesSeen(): number {
    return this.totalBytes;
  }

  /** Adds the next chunk of the stream. Chunks may split characters anywhere. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.totalBytes += bytes.length;
    this.newlines += countNewlines(bytes);
    this.lastByte = bytes[bytes.length - 1];

    const headRoom = this.headBudget - this.headBytes;
    const toHead = Math.min(headRoom, bytes.length);
    if (toHead > 0) {
      // Copy: the caller may reuse its buffer, and the head lives until finish().
      this.headChunks.push(Buffer.from(bytes.subarray(0, toHead)));
      this.headBytes += toHead;
    }
    if (toHead < bytes.length) this.pushTail(bytes.subarray(toHead));
  }

  /** Decodes what was kept and reports the counts. May be called more than once. */
  finish(): CollectedOutput {
    const totalLines = this.newlines + (this.lastByte !== undefined && this.lastByte !== NEWLINE ? 1 : 0);
    const rawHead = Buffer.concat(this.headChunks);
    const rawTail = this.keptTail();
    const omittedRaw = this.totalBytes - rawHead.length - rawTail.length;
    if (omittedRaw === 0) {
      const text = Buffer.concat([rawHead, rawTail]).toString('utf8');
      return { text, truncated: false, totalBytes: this.totalBytes, totalLines, omittedBytes: 0, omittedLines: 0 };
    }

    const head = rawHead.subarray(0, utf8PrefixEnd(rawHead));
    const tail = rawTail.subarray(utf8SuffixStart(rawTail));
    const omittedBytes = this.totalBytes - head.length - tail.length;
    const omittedLines = this.newlines - countNewlines(head) - countNewlines(tail);
    const text = joinWithMarker(head.toString('utf8'), omissionMarker(omittedBytes, omittedLines), tail.toString('utf8'));
    return { text, truncated: true, totalBytes: this.totalBytes, totalLines, omittedBytes, omittedLines };
  }

  private pushTail(bytes: Buffer): void {
    this.tailChunks.push(Buffer.from(bytes));
    this.tailBytes += bytes.length;
    // Drop whole chunks from the front while the rest still covers the tail budget, so
    // memory stays bounded without copying on every push.
    while (this.tailChunks.length > 1 && this.tailBytes - this.tailChunks[0].length >= this.tailBudget) {
      this.tailBytes -= this.tailChunks.shift()!.length;
    }
  }

  private keptTail(): Buffer {
    const all = Buffer.concat(this.tailChunks);
    return all.length > this.tailBudget ? all.subarray(all.length - this.tailBudget) : all;
  }
}

/**
 * Truncates already-collected text to `budgetBytes` of UTF-8, keeping the first and last
 * half of the budget around a one-line omission marker. Text within the budget comes back
 * unchanged with `truncated: false`. Pure; never splits a character (the cut moves to the
 * nearest boundary inside the omitted part, so a few more bytes may be omitted). Throws
 * `RangeError` for a budget that is not a positive integer.
 */
export function truncateHeadTail(text: string, budgetBytes: number = DEFAULT_OUTPUT_BUDGET_BYTES): TruncatedText {
  const collector = new HeadTailCollector(budgetBytes);
  collector.push(Buffer.from(text, 'utf8'));
  const { text: kept, truncated, totalLines, omittedBytes, omittedLines } = collector.finish();
  return { text: kept, truncated, totalLines, omittedBytes, omittedLines };
}

function joinWithMarker(head: string, marker: string, tail: string): string {
  // The marker must sit on a line of its own even when the cut falls mid-line.
  const separator = head.length === 0 || head.endsWith('\n') ? '' : '\n';
  return `${head}${separator}${marker}\n${tail}`;
}

function countNewlines(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(NEWLINE); at !== -1; at = bytes.indexOf(NEWLINE, at + 1)) count += 1;
  return count;
}

function isContinuationByte(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

/** Length a UTF-8 sequence announces in its lead byte (1 for invalid lead bytes). */
function sequenceLength(lead: number): number {
  if (lead >= 0xf8) return 1;
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

/** End of the longest prefix of `bytes` that does not stop inside a character. */
function utf8PrefixEnd(bytes: Buffer): number {
  // A character is at most 4 bytes, so only the last 3 can start an unfinished one.
  for (let back = 1; back <= Math.min(3, bytes.length); back += 1) {
    const at = bytes.length - back;
    if (isContinuationByte(bytes[at])) continue;
    return at + sequenceLength(bytes[at]) > bytes.length ? at : bytes.length;
  }
  return bytes.length;
}

/** Start of the longest suffix of `bytes` that does not begin inside a character. */
function utf8SuffixStart(bytes: Buffer): number {
  let start = 0;
  while (start < Math.min(3, bytes.length) && isContinuationByte(bytes[start])) start += 1;
  return start;
}
