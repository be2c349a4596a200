/**
 * Counts the store's durable writes: every new object and every marker the file store
 * writes is one temporary file, one fsync and one rename (src/store/fs-backend.ts), so
 * the count of writes that reach the disk is the count of fsyncs.
 */
import type { ObjectLinks, StoreBackend } from '../src/store';

/** A {@link StoreBackend} wrapper that counts the writes its inner file store makes durable. */
export class FsyncCountingBackend implements StoreBackend {
  private writes = 0;

  constructor(readonly inner: StoreBackend) {}

  /** Durable writes (= fsyncs of the file store) so far. */
  get fsyncs(): number {
    return this.writes;
  }

  get(hash: string): Promise<Buffer | undefined> {
    return this.inner.get(hash);
  }

  has(hash: string): Promise<boolean> {
    return this.inner.has(hash);
  }

  async put(hash: string, data: Buffer, links?: ObjectLinks): Promise<void> {
    // The file store skips objects it already has (content addressing): no write, no fsync.
    if (!(await this.inner.has(hash))) this.writes++;
    await this.inner.put(hash, data, links);
  }

  async putMarker(key: string, value: string): Promise<void> {
    this.writes++;
    await this.inner.putMarker(key, value);
  }

  getMarker(key: string): Promise<string | undefined> {
    return this.inner.getMarker(key);
  }
}
