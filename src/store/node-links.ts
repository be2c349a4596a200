/**
 * Recognising a transcript node among the bytes handed to `StoreBackend.put`, so a
 * backend (or the encryption wrapper, which sees the plaintext) can record the node's
 * parent link for batched chain reads. Objects written by `TranscriptStore` and by bundle
 * imports go through `put` the same way, so both get their link.
 */
import { OBJECT_HASH } from './canonical-json';
import type { ObjectLinks } from './backend';

// Canonical JSON sorts keys, and a node's first key is "items": a cheap test that
// spares parsing every item (some are large tool outputs) on every write.
const NODE_PREFIX = Buffer.from('{"items":[');

/** The links of `data` when it is a transcript node's canonical JSON, else undefined. */
export function nodeLinks(data: Buffer): ObjectLinks | undefined {
  if (data.length < NODE_PREFIX.length || !NODE_PREFIX.equals(data.subarray(0, NODE_PREFIX.length))) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || (value as { kind?: unknown }).kind !== 'node') return undefined;
  const parent = (value as { parent?: unknown }).parent;
  if (parent === null) return { parent: null };
  return typeof parent === 'string' && OBJECT_HASH.test(parent) ? { parent } : undefined;
}
