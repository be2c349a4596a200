/**
 * Where the transcript store keeps its bytes. Objects are immutable and named by the
 * sha256 of their content, so `put` of an existing name is a no-op and backends never
 * need to handle conflicting writes. Markers are small mutable records (for example "the
 * command of call X was started") used to make tool retries safe.
 */
export interface StoreBackend {
  /** Returns the object's bytes, or undefined when it is absent. */
  get(hash: string): Promise<Buffer | undefined>;
  /**
   * Writes the object durably (it must survive a crash once this resolves). `links`,
   * when the object is a transcript node, names its parent: a backend may index it to
   * serve {@link StoreBackend.getChain} (see ./node-links.ts); others ignore it.
   */
  put(hash: string, data: Buffer, links?: ObjectLinks): Promise<void>;
  /** True when the object is present. */
  has(hash: string): Promise<boolean>;
  /** Writes a marker durably, replacing any previous value. */
  putMarker(key: string, value: string): Promise<void>;
  /** Reads a marker, or undefined. */
  getMarker(key: string): Promise<string | undefined>;
  /**
   * Optional batched read, for backends where every read is a network round trip:
   * the present objects among `hashes`, by hash, in one round trip.
   */
  getMany?(hashes: readonly string[]): Promise<Map<string, Buffer>>;
  /**
   * Optional batched read of a transcript chain: the node `head` and its ancestors,
   * newest first, following the parent links given to `put`, in one round trip. It
   * stops after a root, before a node in `known` (the caller has it already), before a
   * missing node, or after a backend-chosen number of nodes; the caller checks each
   * node and asks again from where the rows stop when the chain goes on.
   */
  getChain?(head: string, known: readonly string[]): Promise<ChainRow[]>;
}

/** What a stored object points at, as far as a backend needs to know. */
export interface ObjectLinks {
  /** The object is a transcript node with this parent (null for a root). */
  readonly parent: string | null;
}

/** One node of a chain read by {@link StoreBackend.getChain}: its name and its bytes. */
export interface ChainRow {
  readonly hash: string;
  readonly data: Buffer;
}

/**
 * A backend that counts its round trips (queries sent to a database, or calls into the
 * filesystem), for tests and benchmarks: the counter only grows.
 */
export interface RoundTripCounter {
  readonly roundTrips: number;
}
