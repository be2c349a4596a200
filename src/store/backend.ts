/**
 * Where the transcript store keeps its bytes. Objects are immutable and named by the
 * sha256 of their content, so `put` of an existing name is a no-op and backends never
 * need to handle conflicting writes. Markers are small mutable records (for example "the
 * command of call X was started") used to make tool retries safe.
 */
export interface StoreBackend {
  /** Returns the object's bytes, or undefined when it is absent. */
  get(hash: string): Promise<Buffer | undefined>;
  /** Writes the object durably (it must survive a crash once this resolves). */
  put(hash: string, data: Buffer): Promise<void>;
  /** True when the object is present. */
  has(hash: string): Promise<boolean>;
  /** Writes a marker durably, replacing any previous value. */
  putMarker(key: string, value: string): Promise<void>;
  /** Reads a marker, or undefined. */
  getMarker(key: string): Promise<string | undefined>;
}
