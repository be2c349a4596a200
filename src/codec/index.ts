/**
 * Encryption of everything Unroll writes: Temporal payloads (an AES-256-GCM payload
 * codec), transcript store objects at rest, and decoding of recorded histories, with
 * keys from a key file or the environment (see ./keys.ts).
 */
export { KeyRing, keyRingFor, loadKeyRing, parseKeyFile, parseInlineKeys, parseKeySpec, newKeySpec, derivedKeyId, type EncryptionKey } from './keys';
export { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, isEncryptedPayload, payloadKeyId } from './aes-gcm-codec';
export { EncryptedStoreBackend, isEncryptedObject } from './encrypted-backend';
export { dataConverterFor, payloadCodecsFor } from './data-converter';
export { decodeHistory, decodeThreadHistories, hasEncryptedPayloads } from './history-codec';
export { EncryptionKeyError, UnknownEncryptionKeyError, MissingEncryptionKeyError, DecryptionError } from './errors';
