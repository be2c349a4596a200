/**
 * Errors of Unroll's encryption. Key problems (a bad key, an unreadable key file, data
 * encrypted with a key the ring lacks, encrypted data and no key at all) are
 * configuration problems the user fixes, so they are {@link ConfigError}s and the CLI
 * prints them without a stack trace. A failed authentication is not: the data was
 * tampered with or is not what it claims to be.
 */
import { ConfigError } from '../config/config';

/** A key that cannot be used: bad base64, wrong length, duplicate id, unreadable key file. */
export class EncryptionKeyError extends ConfigError {
  override readonly name: string = 'EncryptionKeyError';
}

/** Data was encrypted with a key id the key ring does not hold (rotated out, or another ring). */
export class UnknownEncryptionKeyError extends EncryptionKeyError {
  override readonly name = 'UnknownEncryptionKeyError';
  constructor(
    readonly keyId: string,
    readonly what: string,
    readonly knownIds: readonly string[],
  ) {
    super(`${what} was encrypted with key "${keyId}", which is not in the key ring (it holds: ${knownIds.join(', ') || 'nothing'}); add that key to the key file (keys after the first are used for decryption only)`);
  }
}

/** Encrypted data was found but no key is configured. */
export class MissingEncryptionKeyError extends EncryptionKeyError {
  override readonly name = 'MissingEncryptionKeyError';
  constructor(
    readonly what: string,
    readonly keyId: string,
  ) {
    super(`${what} is encrypted (key "${keyId}") and no key is configured: set UNROLL_ENCRYPTION_KEY_FILE (or UNROLL_ENCRYPTION_KEY, or encryption.keyFile in config.json)`);
  }
}

/** AES-GCM authentication failed: the ciphertext, its IV or its tag was altered, or the bytes are malformed. */
export class DecryptionError extends Error {
  override readonly name = 'DecryptionError';
  constructor(
    readonly what: string,
    readonly keyId: string,
    detail: string,
  ) {
    super(`cannot decrypt ${what} with key "${keyId}": ${detail}`);
  }
}
