/**
 * The payload codec of a process that has no encryption key. It writes payloads as they
 * are, and refuses to read an encrypted one with {@link MissingEncryptionKeyError}
 * (naming the key it needs) instead of letting it reach the payload converter.
 *
 * That matters most in a worker: an encrypted payload that reaches the workflow sandbox
 * fails there ("Unknown encoding: binary/encrypted"), and for a query on an uncached
 * workflow the SDK then sent Core a completion it rejects as malformed, which shut the
 * worker down (it hung in DRAINING). Refused by the codec, the activation fails before
 * the sandbox, as an ordinary workflow task failure that names the missing key, and the
 * worker keeps running. In a client, the same refusal turns "Unknown encoding" into a
 * message that says which key to configure.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { payloadKeyId } from './aes-gcm-codec';
import { MissingEncryptionKeyError } from './errors';

/** {@link PayloadCodec} for processes without keys; see the module comment. */
export class MissingKeyPayloadCodec implements PayloadCodec {
  /** Payloads are written unencrypted. */
  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve(payloads);
  }

  /** Rejects with {@link MissingEncryptionKeyError} if any payload is encrypted. */
  decode(payloads: Payload[]): Promise<Payload[]> {
    for (const payload of payloads) {
      const keyId = payloadKeyId(payload);
      if (keyId !== undefined) return Promise.reject(new MissingEncryptionKeyError('a Temporal payload', keyId));
    }
    return Promise.resolve(payloads);
  }
}
