/**
 * The store objects a thread's histories depend on: every hash that appears in any
 * decoded payload of any event (activity inputs and results, workflow inputs, child
 * results, updates), closed over transcript chains (a node brings its parent and its
 * items) and workspace checkpoint chains (a checkpoint record brings its parent and its
 * git bundle, a binary blob). Finding hashes generically, instead of field by field, keeps exports complete
 * when workflows gain new activities (compaction, …).
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { OBJECT_HASH } from '../store/canonical-json';
import type { StoreBackend } from '../store/backend';
import type { ThreadHistories } from './thread-histories';

const HASH_IN_TEXT = /\b[0-9a-f]{64}\b/g;

function isPayload(value: object): value is { data?: Uint8Array | null; metadata?: Record<string, Uint8Array> | null } {
  const v = value as { metadata?: unknown; data?: unknown };
  return typeof v.metadata === 'object' && v.metadata !== null && 'encoding' in v.metadata && (v.data === undefined || v.data === null || v.data instanceof Uint8Array);
}

/** Collects every 64-hex string inside `value` (decoding Temporal payloads on the way). */
function collectHashes(value: unknown, found: Set<string>, seen: Set<object>): void {
  if (typeof value === 'string') {
    if (OBJECT_HASH.test(value)) found.add(value);
    else for (const match of value.match(HASH_IN_TEXT) ?? []) found.add(match);
    return;
  }
  if (value === null || typeof value !== 'object' || seen.has(value) || value instanceof Uint8Array) return;
  seen.add(value);
  if (isPayload(value)) {
    let decoded: unknown;
    try {
      decoded = defaultPayloadConverter.fromPayload(value);
    } catch {
      return; // Not JSON (binary payloads carry no hashes of ours).
    }
    collectHashes(decoded, found, seen);
    return;
  }
  for (const child of Array.isArray(value) ? value : Object.values(value)) collectHashes(child, found, seen);
}

/** Every candidate object hash named anywhere in the histories. */
export function hashesInHistories(histories: ThreadHistories): Set<string> {
  const found = new Set<string>();
  const seen = new Set<object>();
  for (const w of histories.workflows) for (const event of w.history.events ?? []) collectHashes(event, found, seen);
  return found;
}

/** Objects reachable from a thread's histories: JSON objects, and binary blobs (checkpoint bundles). */
export interface ReachableObjects {
  readonly objects: Map<string, Buffer>;
  readonly blobs: Map<string, Buffer>;
}

/**
 * The objects (hash → bytes) reachable from `roots`: each hash present in the store,
 * for transcript nodes their whole chain and items, and for checkpoint records their
 * whole chain and bundles. Hashes the store does not hold (e.g. hashes of context texts,
 * which are not objects) are skipped.
 */
export async function closeOverObjects(backend: StoreBackend, roots: Iterable<string>): Promise<ReachableObjects> {
  const objects = new Map<string, Buffer>();
  const blobs = new Map<string, Buffer>();
  const queue = [...roots];
  const visited = new Set<string>();
  while (queue.length > 0) {
    const hash = queue.pop()!;
    if (visited.has(hash)) continue;
    visited.add(hash);
    const data = await backend.get(hash);
    if (!data) continue;
    objects.set(hash, data);
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString('utf8'));
    } catch {
      continue;
    }
    const node = parsed as { kind?: unknown; parent?: unknown; items?: unknown; bundle?: unknown };
    if (node.kind === 'checkpoint') {
      if (typeof node.parent === 'string') queue.push(node.parent);
      if (typeof node.bundle === 'string' && OBJECT_HASH.test(node.bundle) && !blobs.has(node.bundle)) {
        const bundle = await backend.get(node.bundle);
        if (bundle) blobs.set(node.bundle, bundle);
      }
      continue;
    }
    if (node.kind !== 'node') continue;
    if (typeof node.parent === 'string') queue.push(node.parent);
    if (Array.isArray(node.items)) for (const item of node.items) if (typeof item === 'string') queue.push(item);
  }
  return { objects, blobs };
}
