/** A requested object is not in the store: the chain is broken or the hash is wrong. */
export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  constructor(readonly hash: string, readonly what: string) {
    super(`${what} ${hash} is not in the transcript store`);
  }
}

/** A stored object does not hash to its name, or does not parse as what it should be. */
export class CorruptObjectError extends Error {
  override readonly name = 'CorruptObjectError';
  constructor(readonly hash: string, detail: string) {
    super(`store object ${hash} is corrupt: ${detail}`);
  }
}
