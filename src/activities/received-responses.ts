/**
 * Model answers that were received but not yet stored, kept in the worker's memory.
 *
 * A step asks the model, then writes the answer to the store. When the write fails (a
 * full disk, an I/O error) the activity fails and Temporal retries it; without this
 * cache the retry would ask the model again, paying for a second request and possibly
 * getting a different answer. The inference and compaction activities put the answer
 * here as soon as it is complete, keyed by everything that identifies the step, and
 * remove it once it is stored; a retry on the same worker finds it and only stores it.
 *
 * A retry on another worker (after this one crashed) does not find it and asks again.
 * That is unavoidable without writing the answer somewhere first, which is exactly what
 * failed, and harmless: no node refers to anything of the first answer, so the
 * transcript records only the second.
 */
import { canonicalJson, sha256Hex } from '../store/canonical-json';

/** Entries kept at most; the oldest goes first (an abandoned step must not leak memory). */
const DEFAULT_LIMIT = 16;

/** A bounded map from a step's identity to the answer received for it. */
export class ReceivedResponses<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  /** The key of a step: the hash of the canonical JSON of what identifies it. */
  static keyOf(identity: Record<string, unknown>): string {
    return sha256Hex(canonicalJson(identity));
  }

  /** The answer kept for `key`, if any. */
  get(key: string): T | undefined {
    return this.entries.get(key);
  }

  /** Keeps an answer until {@link ReceivedResponses.delete} (or until evicted). */
  set(key: string, value: T): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Forgets an answer once it is stored. */
  delete(key: string): void {
    this.entries.delete(key);
  }

  /** How many answers wait to be stored. */
  get size(): number {
    return this.entries.size;
  }
}
