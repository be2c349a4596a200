/**
 * The one place that turns a key ring into what the Temporal SDK takes: every Client,
 * Worker and replayer Unroll creates gets its data converter from here, so they all
 * encrypt and decrypt alike. No keys, no converter: the SDK's default (plain JSON).
 */
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { AesGcmPayloadCodec } from './aes-gcm-codec';
import type { KeyRing } from './keys';

/** The payload codecs for a key ring: the AES-GCM codec, or none. */
export function payloadCodecsFor(keys: KeyRing | null | undefined): PayloadCodec[] {
  return keys ? [new AesGcmPayloadCodec(keys)] : [];
}

/**
 * The data converter for Clients and Workers: payload codecs only (the payload and
 * failure converters stay the SDK's defaults, which the workflow sandbox needs as they
 * are). Undefined when encryption is off.
 */
export function dataConverterFor(keys: KeyRing | null | undefined): DataConverter | undefined {
  return keys ? { payloadCodecs: payloadCodecsFor(keys) } : undefined;
}
