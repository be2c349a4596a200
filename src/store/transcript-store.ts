import { z } from 'zod';
import { ConversationItem } from '../items/schemas';
import type { StoreBackend } from './backend';
import { canonicalJson, OBJECT_HASH, sha256Hex } from './canonical-json';
import { DecryptionError } from '../codec/errors';
import { CorruptObjectError, ObjectNotFoundError, type StoredObjectKind } from './errors';

/**
 * A transcript node: like a git commit, it names its parent and the items it appends.
 * A node with `parent: null` is a root (the start of a thread, or a compaction's
 * replacement history). `meta` carries small facts about how the node was made.
 */
export const TranscriptNode = z.object({
  kind: z.literal('node'),
  parent: z.string().regex(OBJECT_HASH).nullable(),
  items: z.array(z.string().regex(OBJECT_HASH)),
  meta: z.record(z.string(), z.unknown()).optional(),
});
export type TranscriptNode = z.infer<typeof TranscriptNode>;

/** One item of a loaded transcript together with its content hash. */
export interface StoredItem {
  readonly hash: string;
  readonly item: ConversationItem;
}

/**
 * The content-addressed transcript store. Items and nodes are immutable and named by
 * the sha256 of their canonical JSON, so writing the same thing twice is harmless (a
 * retried activity cannot corrupt anything) and a head hash names a whole transcript.
 * Decoded chains are cached by head: they never change.
 */
export class TranscriptStore {
  private readonly chainCache = new Map<string, readonly StoredItem[]>();
  private readonly itemCache = new Map<string, ConversationItem>();

  constructor(
    readonly backend: StoreBackend,
    private readonly cacheLimit = 64,
  ) {}

  /** Stores one item and returns its hash. */
  async putItem(item: ConversationItem): Promise<string> {
    const parsed = ConversationItem.parse(item);
    return this.putJson(parsed);
  }

  /** Stores several items in order and returns their hashes in the same order. */
  async putItems(items: readonly ConversationItem[]): Promise<string[]> {
    return Promise.all(items.map((item) => this.putItem(item)));
  }

  /**
   * Reads one item; throws {@link ObjectNotFoundError} or {@link CorruptObjectError}
   * (and a StoreReadError when the backend cannot read at all).
   */
  async getItem(hash: string): Promise<ConversationItem> {
    const cached = this.itemCache.get(hash);
    if (cached) return cached;
    const item = this.decodeItem(hash, await this.getBytes(hash, 'item'));
    this.remember(this.itemCache, hash, item);
    return item;
  }

  /** Writes a node appending `items` to `parent` (null for a root) and returns its hash. */
  async putNode(parent: string | null, items: readonly string[], meta?: Record<string, unknown>): Promise<string> {
    const node: TranscriptNode = { kind: 'node', parent, items: [...items], ...(meta ? { meta } : {}) };
    return this.putJson(TranscriptNode.parse(node));
  }

  /**
   * Stores `items` and a node appending `leading` (hashes already stored) and then them
   * to `parent`, all writes at once: one round of durable writes (fsyncs) instead of
   * items first, node second. That is safe because nothing names the node until this
   * resolves: if the process dies in between, the node is an unreferenced object (its
   * items may be missing) and the caller's retry writes a node of its own.
   */
  async putItemsAndNode(
    parent: string | null,
    leading: readonly string[],
    items: readonly ConversationItem[],
    meta?: Record<string, unknown>,
  ): Promise<{ items: string[]; head: string }> {
    const encoded = items.map((item) => encodeJson(ConversationItem.parse(item)));
    const hashes = encoded.map((e) => e.hash);
    const node = encodeJson(TranscriptNode.parse({ kind: 'node', parent, items: [...leading, ...hashes], ...(meta ? { meta } : {}) }));
    await Promise.all([...encoded, node].map((e) => this.backend.put(e.hash, e.bytes)));
    return { items: hashes, head: node.hash };
  }

  /** Reads one node. */
  async getNode(hash: string): Promise<TranscriptNode> {
    return this.decodeNode(hash, await this.getBytes(hash, 'transcript node'));
  }

  /**
   * Stores `items` and appends them to the transcript named by `head` in one new node.
   * Returns the new head. Appending nothing returns `head` unchanged (when not null).
   */
  async append(head: string | null, items: readonly ConversationItem[], meta?: Record<string, unknown>): Promise<string> {
    const hashes = await this.putItems(items);
    if (hashes.length === 0 && head !== null && !meta) return head;
    return this.putNode(head, hashes, meta);
  }

  /**
   * Loads the whole transcript named by `head`, oldest item first, following parent
   * links back to the root. Null is the empty transcript. On a backend with batched
   * reads (getChain, getMany) this costs two round trips whatever the chain's length.
   */
  async loadTranscript(head: string | null): Promise<readonly StoredItem[]> {
    if (head === null) return [];
    const cached = this.chainCache.get(head);
    if (cached) return cached;
    // Walk back to the nearest cached ancestor (or the root), then replay forward.
    const { pending, base } = await this.nodesSinceCached(head);
    const fetched = await this.prefetchItems(pending.flatMap((node) => node.items));
    let items = base;
    for (const node of pending.reverse()) {
      const added = await Promise.all(node.items.map(async (hash) => ({ hash, item: fetched.get(hash) ?? (await this.getItem(hash)) })));
      items = [...items, ...added];
    }
    this.remember(this.chainCache, head, items);
    return items;
  }

  /** The nodes from `head` back to the first cached chain (its items) or the root, newest first. */
  private async nodesSinceCached(head: string): Promise<{ pending: TranscriptNode[]; base: readonly StoredItem[] }> {
    const pending: TranscriptNode[] = [];
    let cursor: string | null = head;
    const getChain = this.backend.getChain?.bind(this.backend);
    while (cursor !== null) {
      const hit = this.chainCache.get(cursor);
      if (hit) return { pending, base: hit };
      if (!getChain) {
        const node = await this.getNode(cursor);
        pending.push(node);
        cursor = node.parent;
        continue;
      }
      // One batch: take rows while each is the node we expect next. Rows stop early on
      // a long chain or a damaged link; the loop then asks again from where they stop.
      const rows = await getChain(cursor, [...this.chainCache.keys()]).catch(undecryptableBatch);
      if (rows === null) {
        // Some object of the batch does not decrypt: read one by one to name it.
        const node = await this.getNode(cursor);
        pending.push(node);
        cursor = node.parent;
        continue;
      }
      if (rows[0]?.hash !== cursor) throw new ObjectNotFoundError(cursor, 'transcript node');
      for (const row of rows) {
        if (cursor === null || row.hash !== cursor || this.chainCache.has(cursor)) break;
        const node = this.decodeNode(row.hash, row.data);
        pending.push(node);
        cursor = node.parent;
      }
    }
    return { pending, base: [] };
  }

  /** Reads the items among `hashes` that are not cached, in one round trip when the backend batches. */
  private async prefetchItems(hashes: readonly string[]): Promise<Map<string, ConversationItem>> {
    const fetched = new Map<string, ConversationItem>();
    const missing = [...new Set(hashes)].filter((hash) => !this.itemCache.has(hash));
    if (!this.backend.getMany || missing.length === 0) return fetched;
    const found = await this.backend.getMany(missing).catch(undecryptableBatch);
    // Some object of the batch does not decrypt: the callers read one by one and name it.
    if (found === null) return fetched;
    for (const hash of missing) {
      const data = found.get(hash);
      if (!data) throw new ObjectNotFoundError(hash, 'item');
      const item = this.decodeItem(hash, data);
      fetched.set(hash, item);
      this.remember(this.itemCache, hash, item);
    }
    return fetched;
  }

  /** The chain of node hashes from `head` back to its root, newest first. */
  async nodeChain(head: string | null): Promise<string[]> {
    const chain: string[] = [];
    for (let cursor = head; cursor !== null; cursor = (await this.getNode(cursor)).parent) chain.push(cursor);
    return chain;
  }

  /**
   * Stores an opaque byte string (for example a workspace checkpoint's git bundle) and
   * returns its hash. Like every object it is immutable and encrypted when the store is.
   */
  async putBlob(data: Buffer): Promise<string> {
    const hash = sha256Hex(data);
    await this.backend.put(hash, data);
    return hash;
  }

  /** Reads a byte string stored with {@link putBlob}, checking it against its hash. */
  async getBlob(hash: string, what: StoredObjectKind = 'store object'): Promise<Buffer> {
    const data = await this.getBytes(hash, what);
    if (sha256Hex(data) !== hash) throw new CorruptObjectError(hash, 'content does not match its hash', what);
    return data;
  }

  /** Stores a JSON value under the hash of its canonical form (see ../store/canonical-json). */
  putValue(value: unknown): Promise<string> {
    return this.putJson(value);
  }

  /** Reads a JSON value stored with {@link putValue}, checking it against its hash. */
  async getValue(hash: string, what: StoredObjectKind = 'store object'): Promise<unknown> {
    return this.decodeJson(hash, await this.getBytes(hash, what), what);
  }

  /** Stores a marker (a small mutable record, see {@link StoreBackend}). */
  putMarker(key: string, value: string): Promise<void> {
    return this.backend.putMarker(key, value);
  }

  /** Reads a marker. */
  getMarker(key: string): Promise<string | undefined> {
    return this.backend.getMarker(key);
  }

  private async putJson(value: unknown): Promise<string> {
    const { hash, bytes } = encodeJson(value);
    await this.backend.put(hash, bytes);
    return hash;
  }

  private async getBytes(hash: string, what: StoredObjectKind): Promise<Buffer> {
    let data: Buffer | undefined;
    try {
      data = await this.backend.get(hash);
    } catch (err) {
      // An encrypted object that fails authentication was altered: the same corruption
      // as a plaintext object whose bytes no longer match their hash.
      if (err instanceof DecryptionError) throw new CorruptObjectError(hash, err.message, what);
      throw err;
    }
    if (!data) throw new ObjectNotFoundError(hash, what);
    return data;
  }

  private decodeItem(hash: string, data: Buffer): ConversationItem {
    const parsed = ConversationItem.safeParse(this.decodeJson(hash, data, 'item'));
    if (!parsed.success) throw new CorruptObjectError(hash, `not a conversation item: ${parsed.error.message}`, 'item');
    return parsed.data;
  }

  private decodeNode(hash: string, data: Buffer): TranscriptNode {
    const parsed = TranscriptNode.safeParse(this.decodeJson(hash, data, 'transcript node'));
    if (!parsed.success) throw new CorruptObjectError(hash, `not a transcript node: ${parsed.error.message}`, 'transcript node');
    return parsed.data;
  }

  private decodeJson(hash: string, data: Buffer, what: StoredObjectKind): unknown {
    if (sha256Hex(data) !== hash) throw new CorruptObjectError(hash, 'content does not match its hash', what);
    try {
      return JSON.parse(data.toString('utf8'));
    } catch (err) {
      throw new CorruptObjectError(hash, `invalid JSON (${(err as Error).message})`, what);
    }
  }

  private remember<T>(cache: Map<string, T>, key: string, value: T): void {
    cache.set(key, value);
    if (cache.size > this.cacheLimit * (cache === this.itemCache ? 64 : 1)) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
  }
}

/** A batched read that failed to decrypt some object: null, so the caller reads one by one. */
function undecryptableBatch(err: unknown): null {
  if (err instanceof DecryptionError) return null;
  throw err;
}

/** An object's stored bytes (canonical JSON) and its hash. */
function encodeJson(value: unknown): { hash: string; bytes: Buffer } {
  const text = canonicalJson(value);
  return { hash: sha256Hex(text), bytes: Buffer.from(text) };
}
