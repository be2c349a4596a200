/**
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
