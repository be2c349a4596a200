/**
 * A {@link StoreBackend} wrapper that counts calls into the backend it wraps, so the file
 * store reports round trips as the PostgreSQL store does (there, each call is a database
 * statement; here, a filesystem operation). Batched reads are passed through when the
 * inner backend has them and count once each.
 */
import type { ChainRow, ObjectLinks, RoundTripCounter, StoreBackend } from './backend';

/** Counts calls into `inner`; see the module comment. */
export class CountingStoreBackend implements StoreBackend, RoundTripCounter {
  private calls = 0;
  readonly getMany?: (hashes: readonly string[]) => Promise<Map<string, Buffer>>;
  readonly getChain?: (head: string, known: readonly string[]) => Promise<ChainRow[]>;

  constructor(readonly inner: StoreBackend) {
    const getMany = inner.getMany?.bind(inner);
    if (getMany) this.getMany = (hashes) => this.count(() => getMany(hashes));
    const getChain = inner.getChain?.bind(inner);
    if (getChain) this.getChain = (head, known) => this.count(() => getChain(head, known));
  }

  /** Calls made into the inner backend so far. */
  get roundTrips(): number {
    return this.calls;
  }

  get(hash: string): Promise<Buffer | undefined> {
    return this.count(() => this.inner.get(hash));
  }

  put(hash: string, data: Buffer, links?: ObjectLinks): Promise<void> {
    return this.count(() => this.inner.put(hash, data, links));
  }

  has(hash: string): Promise<boolean> {
    return this.count(() => this.inner.has(hash));
  }

  putMarker(key: string, value: string): Promise<void> {
    return this.count(() => this.inner.putMarker(key, value));
  }

  getMarker(key: string): Promise<string | undefined> {
    return this.count(() => this.inner.getMarker(key));
  }

  private count<T>(call: () => Promise<T>): Promise<T> {
    this.calls++;
    return call();
  }
}
