/**
 * Encryption at rest for the transcript store: a {@link StoreBackend} that seals what it
 * writes and opens what it reads, around any other backend. Objects keep their names (the
 * sha256 of their plaintext canonical JSON, so content addressing and every hash in every
 * history are unchanged) and `get` returns the plaintext, so the store's own check
 * `sha256(data) === hash` still holds. On disk an object is
 *
 *     "UNRLENC1" || key id length (1 byte) || key id || iv (12) || ciphertext || tag (16)
 *
 * sealed with the object's name as associated data, so an object copied under another
 * name does not open. Markers (strings) are the same bytes, base64, after `UNRLENC1:`.
 * Objects and markers written before encryption was turned on have no magic and are
 * returned as they are; with no key ring, writes are plaintext and reading an encrypted
 * object is a {@link MissingEncryptionKeyError}. A transcript node's parent link is read
 * from the plaintext and handed to the inner backend, which may index it (the PostgreSQL
 * store does, for one-query chain reads): the shape of a chain is visible at rest, what
 * it holds is not.
 */
import type { ChainRow, ObjectLinks, StoreBackend } from '../store/backend';
import { nodeLinks } from '../store/node-links';
import { open, seal } from './aes-gcm';
import { DecryptionError, MissingEncryptionKeyError, UnknownEncryptionKeyError } from './errors';
import type { KeyRing } from './keys';

/** The first bytes of an encrypted store object. */
export const STORE_MAGIC = Buffer.from('UNRLENC1');
/** The prefix of an encrypted marker's text. */
export const MARKER_PREFIX = 'UNRLENC1:';

/** True when `data` is an encrypted store object (starts with {@link STORE_MAGIC}). */
export function isEncryptedObject(data: Uint8Array): boolean {
  return data.length >= STORE_MAGIC.length && STORE_MAGIC.equals(Buffer.from(data.buffer, data.byteOffset, STORE_MAGIC.length));
}

/** A {@link StoreBackend} that encrypts at rest; see the module comment. */
export class EncryptedStoreBackend implements StoreBackend {
  /** Present when the inner backend batches reads; opens what it returns. */
  readonly getMany?: (hashes: readonly string[]) => Promise<Map<string, Buffer>>;
  /** Present when the inner backend reads chains in one go; opens what it returns. */
  readonly getChain?: (head: string, known: readonly string[]) => Promise<ChainRow[]>;

  /** `keys` null: plaintext writes, plaintext reads, a clear error on encrypted data. */
  constructor(
    readonly inner: StoreBackend,
    readonly keys: KeyRing | null,
  ) {
    const getMany = inner.getMany?.bind(inner);
    if (getMany) {
      this.getMany = async (hashes) => {
        const found = await getMany(hashes);
        for (const [hash, data] of found) found.set(hash, this.openObject(hash, data));
        return found;
      };
    }
    const getChain = inner.getChain?.bind(inner);
    if (getChain) this.getChain = async (head, known) => (await getChain(head, known)).map((row) => ({ hash: row.hash, data: this.openObject(row.hash, row.data) }));
  }

  async get(hash: string): Promise<Buffer | undefined> {
    const data = await this.inner.get(hash);
    return data && this.openObject(hash, data);
  }

  has(hash: string): Promise<boolean> {
    return this.inner.has(hash);
  }

  /** The inner backend sees only ciphertext, so the node's parent link is read here, from the plaintext. */
  put(hash: string, data: Buffer, links?: ObjectLinks): Promise<void> {
    return this.inner.put(hash, this.keys ? this.sealWith(this.keys, data, `object:${hash}`) : data, links ?? nodeLinks(data));
  }

  putMarker(key: string, value: string): Promise<void> {
    if (!this.keys) return this.inner.putMarker(key, value);
    return this.inner.putMarker(key, MARKER_PREFIX + this.sealWith(this.keys, Buffer.from(value, 'utf8'), `marker:${key}`).toString('base64'));
  }

  async getMarker(key: string): Promise<string | undefined> {
    const value = await this.inner.getMarker(key);
    if (value === undefined || !value.startsWith(MARKER_PREFIX)) return value;
    return this.unseal(Buffer.from(value.slice(MARKER_PREFIX.length), 'base64'), `store marker ${key}`, `marker:${key}`).toString('utf8');
  }

  private openObject(hash: string, data: Buffer): Buffer {
    return isEncryptedObject(data) ? this.unseal(data, `store object ${hash}`, `object:${hash}`) : data;
  }

  private sealWith(keys: KeyRing, plaintext: Buffer, aad: string): Buffer {
    const id = Buffer.from(keys.active.id, 'utf8');
    return Buffer.concat([STORE_MAGIC, Buffer.from([id.length]), id, seal(keys.active, plaintext, Buffer.from(aad))]);
  }

  private unseal(data: Buffer, what: string, aad: string): Buffer {
    const idLength = data[STORE_MAGIC.length];
    const idStart = STORE_MAGIC.length + 1;
    if (idLength === undefined || data.length < idStart + idLength) throw new DecryptionError(what, '?', 'the header is truncated');
    const keyId = data.subarray(idStart, idStart + idLength).toString('utf8');
    if (!this.keys) throw new MissingEncryptionKeyError(what, keyId);
    const key = this.keys.get(keyId);
    if (!key) throw new UnknownEncryptionKeyError(keyId, what, this.keys.ids());
    return open(key, data.subarray(idStart + idLength), what, Buffer.from(aad));
  }
}
