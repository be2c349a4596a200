/**
 * A {@link StoreBackend} held in memory: the store of a bundle opened read-only by
 * `show`, `replay` and `diff`, so a bundle can be inspected without touching the local
 * store or any server.
 */
import type { StoreBackend } from '../store/backend';

/** Objects and markers in two maps; nothing is persisted. */
export class MemoryStoreBackend implements StoreBackend {
  private readonly objects = new Map<string, Buffer>();
  private readonly markers = new Map<string, string>();

  /** Starts with the given objects (hash → bytes); callers verify the hashes. */
  constructor(objects: Iterable<[string, Buffer]> = []) {
    for (const [hash, data] of objects) this.objects.set(hash, data);
  }

  get(hash: string): Promise<Buffer | undefined> {
    return Promise.resolve(this.objects.get(hash));
  }

  put(hash: string, data: Buffer): Promise<void> {
    if (!this.objects.has(hash)) this.objects.set(hash, data);
    return Promise.resolve();
  }

  has(hash: string): Promise<boolean> {
    return Promise.resolve(this.objects.has(hash));
  }

  putMarker(key: string, value: string): Promise<void> {
    this.markers.set(key, value);
    return Promise.resolve();
  }

  getMarker(key: string): Promise<string | undefined> {
    return Promise.resolve(this.markers.get(key));
  }
}
