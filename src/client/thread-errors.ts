/** Errors about a thread the user named: it is malformed, or the server does not know it. */

/** A thread id that does not exist on the server. */
export class ThreadNotFoundError extends Error {
  override readonly name = 'ThreadNotFoundError';
  constructor(readonly threadId: string) {
    super(`thread ${threadId} not found (is the Temporal address right? \`unroll threads\` lists known threads)`);
  }
}

/** A thread id that is not well formed. */
export class InvalidThreadIdError extends Error {
  override readonly name = 'InvalidThreadIdError';
  constructor(readonly threadId: string) {
    super(`"${threadId}" is not a valid thread id (letters, digits, '.', '_' and '-', at most 128)`);
  }
}
