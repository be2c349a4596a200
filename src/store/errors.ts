import { getSystemErrorMap } from 'node:util';

/** What a stored object is, in messages: a conversation item or a transcript node. */
export type StoredObjectKind = 'item' | 'transcript node' | 'store object';

/** A requested object is not in the store: the chain is broken or the hash is wrong. */
export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  constructor(readonly hash: string, readonly what: string) {
    super(`${what} ${hash} is not in the transcript store`);
  }
}

/**
 * A stored object does not hash to its name, does not decrypt, or does not parse as
 * what it should be. `what` says which kind of object was expected (`store object` when
 * the reader did not say).
 */
export class CorruptObjectError extends Error {
  override readonly name = 'CorruptObjectError';
  constructor(
    readonly hash: string,
    readonly detail: string,
    readonly what: StoredObjectKind = 'store object',
  ) {
    super(`${what} ${hash} is corrupt: ${detail}`);
  }
}

/**
 * The filesystem (or another backend) refused a read or a write: a full disk, an I/O
 * error, a read-only mount, too many open files. The store itself is intact and the
 * same operation may succeed later, so callers retry. `code` is the errno name
 * (`ENOSPC`), `description` its plain text ("no space left on device").
 */
export class StoreIoError extends Error {
  override readonly name: string = 'StoreIoError';
  readonly summary: string;
  constructor(
    readonly operation: 'read' | 'write',
    readonly code: string,
    readonly description: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    const summary = `store ${operation} failed: ${description}`;
    super(`${summary} (${code} at ${path})`, options);
    this.summary = summary;
  }
}

/** A write to the store failed for a reason outside the store (see {@link StoreIoError}). */
export class StoreWriteError extends StoreIoError {
  override readonly name = 'StoreWriteError';
  constructor(code: string, description: string, path: string, options?: { cause?: unknown }) {
    super('write', code, description, path, options);
  }
}

/** A read from the store failed for a reason other than the object being absent. */
export class StoreReadError extends StoreIoError {
  override readonly name = 'StoreReadError';
  constructor(code: string, description: string, path: string, options?: { cause?: unknown }) {
    super('read', code, description, path, options);
  }
}

/**
 * The errno name and plain description of a Node system error (`ENOSPC`, "no space
 * left on device"), or undefined for an error that is not one.
 */
export function systemErrorOf(err: unknown): { code: string; description: string } | undefined {
  const e = err as NodeJS.ErrnoException | null;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || !/^E[A-Z0-9]+$/.test(e.code)) return undefined;
  const known = typeof e.errno === 'number' ? getSystemErrorMap().get(e.errno) : undefined;
  // Node's own text ("ENOSPC: no space left on device, write") is the fallback.
  const description = known?.[0] === e.code ? known[1] : /^E[A-Z0-9]+: ([^,]+)/.exec(e.message ?? '')?.[1] ?? e.code;
  return { code: e.code, description };
}
