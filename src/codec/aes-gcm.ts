/**
 * AES-256-GCM sealing, shared by the payload codec and the encrypted store: a sealed
 * message is `iv (12 random bytes) || ciphertext || tag (16 bytes)`. A fresh random IV per
 * message keeps GCM safe for far more messages than one key will ever encrypt here.
 * Optional associated data binds a ciphertext to its context (the store binds each object
 * to its name) without being stored.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptionError } from './errors';
import type { EncryptionKey } from './keys';

/** Bytes of the random IV in front of every sealed message. */
export const IV_BYTES = 12;
/** Bytes of the GCM authentication tag at the end of every sealed message. */
export const TAG_BYTES = 16;

/** Encrypts and authenticates `plaintext` with `key`: `iv || ciphertext || tag`. */
export function seal(key: EncryptionKey, plaintext: Uint8Array, aad?: Uint8Array): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_BYTES });
  if (aad) cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/**
 * Checks and decrypts a sealed message; `what` names it in errors. Throws
 * {@link DecryptionError} when it is too short or fails authentication (tampered, or
 * sealed with another key or other associated data).
 */
export function open(key: EncryptionKey, sealed: Uint8Array, what: string, aad?: Uint8Array): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new DecryptionError(what, key.id, `${sealed.length} bytes is shorter than an IV and a tag`);
  const data = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', key.key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  if (aad) decipher.setAAD(aad);
  try {
    return Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptionError(what, key.id, 'authentication failed (the data was altered, or it was sealed with another key)');
  }
}
