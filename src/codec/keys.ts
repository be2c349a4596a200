/**
 * Encryption keys. A key spec is `id:base64` (or bare `base64`, whose id is then derived
 * from the key: `k-` + the first 12 hex digits of its sha256), where the base64 decodes to
 * exactly 32 bytes (AES-256). A key ring is one or more specs: the first is the active key
 * (everything new is encrypted with it), all of them decrypt. Rotating is putting the new
 * key first and keeping the old ones below it for as long as data encrypted with them may
 * still be read.
 *
 * Sources (see `loadConfig`): `UNROLL_ENCRYPTION_KEY` holds specs separated by commas; a
 * key file (`UNROLL_ENCRYPTION_KEY_FILE` or config.json
 * `encryption.keyFile`) holds one spec per line, with blank lines and `#` comments
 * ignored. Error messages name the source and the line, never the key material.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EncryptionSource, UnrollConfig } from '../config/config';
import { EncryptionKeyError } from './errors';

/** Bytes of an AES-256 key. */
export const KEY_BYTES = 32;

/** What a key id may look like: it travels in payload metadata and in store object headers. */
export const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

const BASE64_32_BYTES = /^[A-Za-z0-9+/_-]{43}=?$/;

/** One AES-256 key and its id. */
export interface EncryptionKey {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * The keys a process may use: `active` encrypts, every key decrypts (looked up by the id
 * recorded next to the ciphertext). Immutable; ids are unique.
 */
export class KeyRing {
  private readonly byId: ReadonlyMap<string, EncryptionKey>;

  /** Throws {@link EncryptionKeyError} when `keys` is empty or two keys share an id. */
  constructor(readonly keys: readonly EncryptionKey[]) {
    if (keys.length === 0) throw new EncryptionKeyError('a key ring needs at least one key');
    const byId = new Map<string, EncryptionKey>();
    for (const key of keys) {
      if (byId.has(key.id)) throw new EncryptionKeyError(`two keys have the id "${key.id}": key ids must be unique`);
      if (key.key.length !== KEY_BYTES) throw new EncryptionKeyError(`key "${key.id}" has ${key.key.length} bytes; AES-256 needs ${KEY_BYTES}`);
      byId.set(key.id, key);
    }
    this.byId = byId;
  }

  /** The key new data is encrypted with (the first one). */
  get active(): EncryptionKey {
    return this.keys[0];
  }

  /** The key with this id, if the ring holds it. */
  get(id: string): EncryptionKey | undefined {
    return this.byId.get(id);
  }

  /** Every key id, active first. */
  ids(): string[] {
    return this.keys.map((k) => k.id);
  }
}

/** The id a bare base64 key gets: a short fingerprint, so different keys get different ids. */
export function derivedKeyId(key: Buffer): string {
  return `k-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/**
 * Parses one key spec (`id:base64` or `base64`); `where` names its source in errors.
 * Throws {@link EncryptionKeyError}.
 */
export function parseKeySpec(spec: string, where: string): EncryptionKey {
  const text = spec.trim();
  const colon = text.indexOf(':');
  const id = colon >= 0 ? text.slice(0, colon).trim() : undefined;
  const encoded = (colon >= 0 ? text.slice(colon + 1) : text).trim();
  if (id !== undefined && !KEY_ID.test(id)) {
    throw new EncryptionKeyError(`${where}: key id ${JSON.stringify(id)} is not valid (1 to 64 of A-Z a-z 0-9 . _ -)`);
  }
  const label = id !== undefined ? `key "${id}"` : 'the key';
  if (!BASE64_32_BYTES.test(encoded)) {
    const bytes = /^[A-Za-z0-9+/_-]*={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64').length : null;
    const problem = bytes === null ? 'is not base64' : `decodes to ${bytes} bytes`;
    throw new EncryptionKeyError(`${where}: ${label} ${problem}; an AES-256 key is ${KEY_BYTES} random bytes in base64 (e.g. \`head -c 32 /dev/urandom | base64\`)`);
  }
  const key = Buffer.from(encoded, 'base64');
  return { id: id ?? derivedKeyId(key), key };
}

/** Parses the text of `UNROLL_ENCRYPTION_KEY`: specs separated by commas. */
export function parseInlineKeys(text: string, origin: string): KeyRing {
  const specs = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0) throw new EncryptionKeyError(`${origin} is empty`);
  return withContext(origin, () => new KeyRing(specs.map((spec, i) => parseKeySpec(spec, specs.length > 1 ? `${origin} (key ${i + 1})` : origin))));
}

/** Parses a key file's text: one spec per line, blank lines and `#` comments ignored. */
export function parseKeyFile(text: string, file: string): KeyRing {
  const keys: EncryptionKey[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const content = line.replace(/#.*$/, '').trim();
    if (content !== '') keys.push(parseKeySpec(content, `${file} line ${index + 1}`));
  });
  if (keys.length === 0) throw new EncryptionKeyError(`${file} holds no key (expected lines of id:base64)`);
  return withContext(file, () => new KeyRing(keys));
}

/** Reads and checks the keys of a configured source. Throws {@link EncryptionKeyError}. */
export function loadKeyRing(source: EncryptionSource): KeyRing {
  if (source.kind === 'inline') return parseInlineKeys(source.text, source.origin);
  let text: string;
  try {
    text = readFileSync(source.path, 'utf8');
  } catch (err) {
    throw new EncryptionKeyError(`cannot read the key file ${source.path} (from ${source.origin}): ${(err as Error).message}`);
  }
  return parseKeyFile(text, source.path);
}

/** The key ring a configuration names, or null when encryption is off. */
export function keyRingFor(config: Pick<UnrollConfig, 'encryption'>): KeyRing | null {
  return config.encryption ? loadKeyRing(config.encryption) : null;
}

/** A fresh random key as a key-file line (`id:base64`). */
export function newKeySpec(id: string): string {
  if (!KEY_ID.test(id)) throw new EncryptionKeyError(`key id ${JSON.stringify(id)} is not valid (1 to 64 of A-Z a-z 0-9 . _ -)`);
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

function withContext<T>(where: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof EncryptionKeyError && !err.message.startsWith(where)) throw new EncryptionKeyError(`${where}: ${err.message}`);
    throw err;
  }
}
