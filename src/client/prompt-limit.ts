/**
 * The size limit of a user message, checked by the client before anything is started:
 * the workflow's update validator enforces the same limit, but its refusal comes after
 * the thread was created and reads "Workflow Update failed". The limit and the rule come
 * from the workflow definitions, so the two checks cannot drift apart.
 */
import { validateUserText } from '../workflows/decisions';
import { MAX_USER_INPUT_BYTES } from '../workflows/definitions';

/** A message over the limit (or not text at all): the user's to fix, nothing was started. */
export class PromptTooLargeError extends Error {
  override readonly name = 'PromptTooLargeError';
  constructor(
    readonly what: string,
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(`the ${what} is ${formatSize(bytes)}; the limit is ${formatSize(limitBytes)} (put large input in a file and refer to it)`);
  }
}

/** `300 KiB`, `1.5 MiB`, `512 bytes`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, 'KiB'] : [bytes / (1024 * 1024), 'MiB'];
  return `${Math.round(value * 10) / 10} ${unit}`;
}

/**
 * Throws {@link PromptTooLargeError} when `text` is over the limit a thread accepts;
 * `what` names it in the message (`prompt`, `message`).
 */
export function checkPromptSize(text: string, what = 'prompt', limitBytes = MAX_USER_INPUT_BYTES): void {
  if (validateUserText(text, limitBytes) === null) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limitBytes) throw new PromptTooLargeError(what, bytes, limitBytes);
}
