/**
 * What user input a thread accepts, checked in the same way by the client (before it
 * starts or messages a thread, so a refused prompt leaves nothing behind) and by the
 * session's update validators (so no client can get past it). Pure; safe in workflow code.
 */

/**
 * Largest user message, in UTF-8 bytes, accepted in one update: 256 KiB (about 64k
 * tokens). The text is written once into Temporal history (the update that delivers
 * it), where one payload should stay well under the server's 512 KB warning and 2 MB
 * error limits for a blob; larger content belongs in a file the agent can read.
 */
export const MAX_USER_INPUT_BYTES = 256 * 1024;

/** User input that a thread refuses: empty, not text, or over {@link MAX_USER_INPUT_BYTES}. */
export class InvalidUserInputError extends Error {
  override readonly name = 'InvalidUserInputError';
  constructor(readonly problem: string) {
    super(problem);
  }
}

/** What is wrong with `text` as a user message (naming the limit when it is too large), or null when it is fine. */
export function userInputProblem(text: unknown, maxBytes: number = MAX_USER_INPUT_BYTES): string | null {
  if (typeof text !== 'string') return 'input text must be a string';
  if (text.trim() === '') return 'input text is empty';
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > maxBytes) return `input text is ${bytes} bytes; the limit is ${maxBytes} bytes (put large content in a file and refer to it)`;
  return null;
}

/** Throws {@link InvalidUserInputError} when `text` is not an acceptable user message. */
export function assertValidUserInput(text: unknown, maxBytes: number = MAX_USER_INPUT_BYTES): void {
  const problem = userInputProblem(text, maxBytes);
  if (problem !== null) throw new InvalidUserInputError(problem);
}
