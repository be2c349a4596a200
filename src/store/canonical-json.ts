import { createHash } from 'node:crypto';

/**
 * Serialises a JSON value with object keys sorted at every level, so that equal values
 * always produce the same bytes and therefore the same hash. `undefined` properties are
 * dropped, as JSON.stringify does. Throws a TypeError for values JSON cannot represent
 * (functions, symbols, bigints, cycles).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value, new Set()));
}

function sortKeys(value: unknown, seen: Set<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) throw new TypeError('canonicalJson: cyclic value');
  seen.add(value);
  let result: unknown;
  if (Array.isArray(value)) {
    result = value.map((v) => sortKeys(v === undefined ? null : v, seen));
  } else {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v, seen);
    }
    result = out;
  }
  seen.delete(value);
  return result;
}

/** The sha256 hex digest of a byte string or text: the name of a stored object. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A stored object's name: 64 lowercase hex characters. */
export const OBJECT_HASH = /^[0-9a-f]{64}$/;
