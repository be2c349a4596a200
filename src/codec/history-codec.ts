/**
 * Decoding the payloads of recorded histories. A history fetched from the server
 * (`fetchHistory`) or read from a bundle holds payloads exactly as the server stores
 * them, so with encryption on they are ciphertext. The readers of histories (show, diff,
 * fork, replay, threads) take them through {@link decodeThreadHistories} first, which
 * returns a copy whose every encrypted payload is decoded with the configured codecs;
 * export keeps the stored form.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { History } from '../history/history-events';
import type { ThreadHistories } from '../history/thread-histories';
import { payloadKeyId } from './aes-gcm-codec';
import { MissingEncryptionKeyError } from './errors';
import { MissingKeyPayloadCodec } from './missing-key-codec';

const HistoryMessage = temporal.api.history.v1.History;
const PayloadMessage = temporal.api.common.v1.Payload;

/** Where an encrypted payload sits: `holder[key]` (an object field or an array index). */
interface Slot {
  readonly holder: Record<string | number, unknown>;
  readonly key: string | number;
  readonly payload: Payload;
}

function isPayload(value: object): value is Payload {
  const v = value as { metadata?: unknown; data?: unknown };
  return typeof v.metadata === 'object' && v.metadata !== null && (v.metadata as Record<string, unknown>).encoding instanceof Uint8Array;
}

/** Every encrypted payload reachable from `root`, with where it sits. */
function encryptedSlots(root: unknown): Slot[] {
  const slots: Slot[] = [];
  const seen = new Set<object>();
  const visit = (holder: Record<string | number, unknown>, key: string | number): void => {
    const value = holder[key];
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array || seen.has(value)) return;
    seen.add(value);
    if (isPayload(value)) {
      if (payloadKeyId(value) !== undefined) slots.push({ holder, key, payload: value });
      return;
    }
    if (Array.isArray(value)) value.forEach((_, i) => visit(value as unknown as Record<number, unknown>, i));
    else for (const child of Object.keys(value)) visit(value as Record<string, unknown>, child);
  };
  visit({ root }, 'root');
  return slots;
}

/** True when the history holds at least one encrypted payload. */
export function hasEncryptedPayloads(history: History): boolean {
  return encryptedSlots(history).length > 0;
}

/**
 * A copy of `history` with every encrypted payload decoded by `codecs` (applied last to
 * first, as the SDK does); the history itself when it holds none. `what` names the
 * history in errors. Throws {@link MissingEncryptionKeyError} when it holds encrypted
 * payloads and no codec is given, and whatever the codec throws (unknown key, tampering).
 */
export async function decodeHistory(history: History, codecs: readonly PayloadCodec[], what: string): Promise<History> {
  const found = encryptedSlots(history);
  if (found.length === 0) return history;
  // A process without keys may still carry the codec that only refuses encrypted payloads.
  if (!codecs.some((c) => !(c instanceof MissingKeyPayloadCodec))) throw new MissingEncryptionKeyError(what, payloadKeyId(found[0].payload) ?? '?');
  const copy = HistoryMessage.decode(HistoryMessage.encode(history).finish());
  const slots = encryptedSlots(copy);
  let payloads = slots.map((s) => s.payload);
  for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
  slots.forEach((slot, i) => (slot.holder[slot.key] = PayloadMessage.create(payloads[i])));
  return copy;
}

/** {@link decodeHistory} for every run of a thread. */
export async function decodeThreadHistories(histories: ThreadHistories, codecs: readonly PayloadCodec[]): Promise<ThreadHistories> {
  const workflows = [];
  for (const w of histories.workflows) {
    workflows.push({ ...w, history: await decodeHistory(w.history, codecs, `the history of ${w.workflowId} (run ${w.runId})`) });
  }
  return { threadId: histories.threadId, workflows };
}
