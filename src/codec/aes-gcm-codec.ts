/**
 * The payload codec that encrypts everything Unroll writes into Temporal: workflow and
 * activity inputs and results, update arguments and results, query results, signals,
 * heartbeat details, and the summaries shown in the Web UI. Each payload (already turned
 * into JSON by the payload converter) is serialised as a `temporal.api.common.v1.Payload`
 * and sealed with the key ring's active key; the result is a new payload:
 *
 *     metadata: { encoding: "binary/encrypted", "encryption-key-id": <key id> }
 *     data:     iv (12) || ciphertext || tag (16)
 *
 * Decoding looks the key up by the id in the metadata, so payloads written before a key
 * rotation still decode as long as the old key stays in the ring. Payloads with another
 * encoding pass through unchanged (histories started before encryption was turned on).
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { open, seal } from './aes-gcm';
import { DecryptionError, UnknownEncryptionKeyError } from './errors';
import type { KeyRing } from './keys';

/** `metadata.encoding` of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata entry naming the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';

const PayloadMessage = temporal.api.common.v1.Payload;

/** The metadata value `name` of a payload as text, if present. */
function metadataText(payload: Payload, name: string): string | undefined {
  const value = payload.metadata?.[name];
  return value ? Buffer.from(value).toString('utf8') : undefined;
}

/** True when the payload was encrypted by {@link AesGcmPayloadCodec}. */
export function isEncryptedPayload(payload: Payload): boolean {
  return metadataText(payload, 'encoding') === ENCRYPTED_ENCODING;
}

/** The key id an encrypted payload names (undefined for other payloads). */
export function payloadKeyId(payload: Payload): string | undefined {
  return isEncryptedPayload(payload) ? (metadataText(payload, KEY_ID_METADATA) ?? '') : undefined;
}

/** AES-256-GCM {@link PayloadCodec} over a {@link KeyRing}; see the module comment. */
export class AesGcmPayloadCodec implements PayloadCodec {
  constructor(readonly keys: KeyRing) {}

  /** Encrypts every payload with the active key. */
  encode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((p) => this.encodeOne(p))));
  }

  /**
   * Decrypts encrypted payloads and leaves the others as they are. Rejects with
   * {@link UnknownEncryptionKeyError} for a key id the ring lacks and with
   * {@link DecryptionError} for a payload that fails authentication.
   */
  decode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((p) => this.decodeOne(p))));
  }

  /** {@link encode} for one payload, synchronously. */
  encodeOne(payload: Payload): Payload {
    const key = this.keys.active;
    return {
      metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(key.id) },
      data: seal(key, PayloadMessage.encode(payload).finish()),
    };
  }

  /** {@link decode} for one payload, synchronously. */
  decodeOne(payload: Payload): Payload {
    const keyId = payloadKeyId(payload);
    if (keyId === undefined) return payload;
    const key = this.keys.get(keyId);
    if (!key) throw new UnknownEncryptionKeyError(keyId, 'a Temporal payload', this.keys.ids());
    const plain = open(key, payload.data ?? new Uint8Array(), 'a Temporal payload');
    try {
      const decoded = PayloadMessage.decode(plain);
      return { metadata: decoded.metadata, data: decoded.data };
    } catch (err) {
      throw new DecryptionError('a Temporal payload', keyId, `the decrypted bytes are not a Payload (${(err as Error).message})`);
    }
  }
}
