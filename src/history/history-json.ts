/**
 * Histories as plain JSON for bundles, via the generated protobuf classes of
 * `@temporalio/proto`: int64 fields as decimal strings, enums by name, bytes (payload
 * data) as base64, timestamps as `{seconds, nanos}`. The SDK's `historyToJSON` /
 * `historyFromJSON` are not used: with the npm layout this repository installs, its
 * protojson helper and the generated types load two copies of protobufjs and both
 * functions throw "type must be a Type". This encoding round-trips exactly and needs
 * nothing but the generated code.
 */
import { temporal } from '@temporalio/proto';
import type { History } from './history-events';

const HistoryMessage = temporal.api.history.v1.History;

/** A history as JSON-safe plain data. */
export function historyToPlain(history: History): unknown {
  return HistoryMessage.toObject(HistoryMessage.fromObject(history), { longs: String, enums: String, bytes: String });
}

/** The history a {@link historyToPlain} value encodes; throws on malformed input. */
export function historyFromPlain(value: unknown): History {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { events?: unknown }).events)) {
    throw new TypeError('expected an object with an array of events');
  }
  return HistoryMessage.fromObject(value);
}
