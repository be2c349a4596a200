/**
 * The store's errors. About what it holds: an object missing ({@link ObjectNotFoundError})
 * or corrupt ({@link CorruptObjectError}), and the disk failing under it
 * ({@link StoreIoError}). About where it is: see the second part of this file.
 */
import { getSystemErrorMap } from 'node:util';

/** What a stored object is, in messages: a conversation item or a transcript node. */
export type StoredObjectKind = 'item' | 'transcript node' | 'checkpoint' | 'checkpoint bundle' | 'store object';

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

/*
 * Errors about where the store is rather than what it holds: a store spec that is wrong
 * or names a store that cannot be reached at start-up ({@link StoreConfigError}, final:
 * fix the configuration), and a store that goes away while in use
 * ({@link StoreUnavailableError}, transient: retry). Messages carry the store's
 * description with the password redacted (see describeStoreSpec), never the password.
 */

/**
 * The store configuration is wrong, or the store it names cannot be used: raised when
 * parsing the spec and by `checkStore` at start-up, before any workflow starts. The
 * message starts with where the spec came from, e.g.
 * `UNROLL_STORE=postgres://unroll:***@127.0.0.1:5999/unroll: connection refused`.
 */
export class StoreConfigError extends Error {
  override readonly name = 'StoreConfigError';
  constructor(
    /** Where the spec came from: an environment variable name or a config file field. */
    readonly source: string,
    /** The spec with its password redacted. */
    readonly description: string,
    readonly reason: string,
  ) {
    super(`${/^[A-Z][A-Z0-9_]*$/.test(source) ? `${source}=${description}` : `${source} (${description})`}: ${reason}`);
  }
}

/**
 * The store was reachable but is not now (connection refused or cut, the server
 * shutting down or restarting, too many connections). Nothing was lost: the operation
 * either happened wholly or not at all, and retrying it is safe (objects are immutable,
 * markers are whole-value writes). Temporal retries activities that throw it.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  /** Always true: callers and retry policies may key on it. */
  readonly retryable = true;
  constructor(
    readonly description: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`transcript store ${description} is unavailable: ${reason}; the operation is safe to retry`, options);
  }
}

/** The file store's `store-id` file does not hold a store id (edited or damaged). */
export class StoreIdCorruptError extends Error {
  override readonly name = 'StoreIdCorruptError';
  constructor(readonly file: string, content: string) {
    super(`${file} should hold this store's id (a UUID) but holds ${JSON.stringify(content.slice(0, 80))}; restore it from a backup, or delete it if no thread recorded the old id`);
  }
}
