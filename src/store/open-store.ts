/**
 * Opening the transcript store a spec names (see ./store-spec.ts): the file store or the
 * shared PostgreSQL store, each wrapped the same way by encryption at rest
 * (src/codec/encrypted-backend.ts). Opening does no I/O; {@link checkStore} is the
 * start-up check (connect, create or upgrade the schema, read the store id) that turns
 * a wrong or unreachable store into one clear {@link StoreConfigError} before any
 * workflow starts. Afterwards, a store that goes away throws StoreUnavailableError,
 * which is transient.
 */
import { EncryptedStoreBackend } from '../codec/encrypted-backend';
import type { KeyRing } from '../codec/keys';
import type { StoreBackend } from './backend';
import { CountingStoreBackend } from './counting-backend';
import { FsStoreBackend } from './fs-backend';
import { readOrCreateFsStoreId } from './fs-store-id';
import { PgStoreBackend } from './pg-backend';
import { describeDatabaseError } from './pg-failures';
import { StoreConfigError, StoreUnavailableError } from './errors';
import { parseStoreSpec, type StoreSpec } from './store-spec';
import { TranscriptStore } from './transcript-store';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Encrypt at rest with these keys (null or absent: plaintext, see EncryptedStoreBackend). */
  readonly keys?: KeyRing | null;
  /** The Unroll home, for the default store `<home>/store`. */
  readonly home: string;
  /** The user's home directory, for `file:~/…` (default `os.homedir()`). */
  readonly userHome?: string;
  /** Where the spec came from, for errors (default `UNROLL_STORE`). */
  readonly source?: string;
  /** PostgreSQL: connections in the pool (default 10). */
  readonly poolSize?: number;
  /** PostgreSQL: how long to wait for a connection (default 10 s). */
  readonly connectTimeoutMs?: number;
}

/** An open store: the TranscriptStore to use, and what it takes to manage it. */
export interface OpenedStore {
  readonly kind: StoreSpec['kind'];
  /** The spec with its password redacted: safe to log and show. */
  readonly description: string;
  /** Where the spec came from (an environment variable or config field). */
  readonly source: string;
  readonly store: TranscriptStore;
  /**
   * The store's id (a UUID created with the store): equal ids mean the same store.
   * Creates the store (directory or schema) when it does not exist yet.
   */
  storeId(): Promise<string>;
  /** Round trips to the backend so far (database statements, or filesystem calls). */
  roundTrips(): number;
  /** Releases the store's resources (the connection pool). Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Opens the store `spec` names (undefined: the default file store under the Unroll
 * home). No I/O happens here: call {@link checkStore} at start-up. Throws
 * {@link StoreConfigError} for a spec that does not parse.
 */
export function openStore(spec: string | undefined, options: OpenStoreOptions): OpenedStore {
  const source = options.source ?? 'UNROLL_STORE';
  const parsed = parseStoreSpec(spec, { home: options.home, userHome: options.userHome, source });
  const wrap = (backend: StoreBackend) => new TranscriptStore(new EncryptedStoreBackend(backend, options.keys ?? null));
  if (parsed.kind === 'file') {
    const counted = new CountingStoreBackend(new FsStoreBackend(parsed.dir));
    let id: Promise<string> | undefined;
    return {
      kind: 'file',
      description: parsed.description,
      source,
      store: wrap(counted),
      storeId: () => (id ??= readOrCreateFsStoreId(parsed.dir).catch((err: unknown) => {
        id = undefined;
        throw err;
      })),
      roundTrips: () => counted.roundTrips,
      close: () => Promise.resolve(),
    };
  }
  const backend = new PgStoreBackend({ url: parsed.url, description: parsed.description, poolSize: options.poolSize, connectTimeoutMs: options.connectTimeoutMs });
  return {
    kind: 'postgres',
    description: parsed.description,
    source,
    store: wrap(backend),
    storeId: () => backend.storeId(),
    roundTrips: () => backend.roundTrips,
    close: () => backend.close(),
  };
}

/**
 * The start-up check: reaches the store, creates or upgrades it, and returns its id.
 * Throws {@link StoreConfigError} naming the spec's source with the password redacted,
 * e.g. `UNROLL_STORE=postgres://unroll:***@127.0.0.1:5999/unroll: connection refused (…)`.
 */
export async function checkStore(opened: OpenedStore): Promise<string> {
  try {
    return await opened.storeId();
  } catch (err) {
    const reason = err instanceof StoreUnavailableError ? err.reason : opened.kind === 'postgres' ? describeDatabaseError(err) : (err as Error).message;
    throw new StoreConfigError(opened.source, opened.description, reason);
  }
}
