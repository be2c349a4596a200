/**
 * Thread bundles: a self-contained, gzip'd JSON file holding every workflow history of
 * a thread (as plain JSON, see ./history-json.ts) and every store object they reference.
 * A bundle can be shown, replayed and diffed without a server, imported into a local
 * store, and kept as a regression corpus (test/fixtures/corpus).
 *
 * Format (version 1): `{format: "unroll-bundle", version: 1, threadId, exportedAt,
 * workflows: [{workflowId, runId, workflowType, history}], objects: {hash: text},
 * blobs?: {hash: base64}}`. Objects are the store's canonical JSON texts; blobs are its
 * binary objects (the git bundles of workspace checkpoints, so an imported thread can be
 * checked out with no access to the original store). Hashes are checked on read.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { z } from 'zod';
import { OBJECT_HASH, sha256Hex } from '../store/canonical-json';
import type { StoreBackend } from '../store/backend';
import { TranscriptStore } from '../store/transcript-store';
import { historyFromPlain, historyToPlain } from './history-json';
import { MemoryStoreBackend } from './memory-backend';
import { closeOverObjects, hashesInHistories } from './referenced-objects';
import type { ThreadHistories } from './thread-histories';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The bundle file's schema. */
export const ThreadBundle = z.object({
  format: z.literal('unroll-bundle'),
  version: z.literal(1),
  threadId: z.string().min(1),
  exportedAt: z.string(),
  workflows: z.array(z.object({ workflowId: z.string(), runId: z.string(), workflowType: z.string(), history: z.unknown() })),
  objects: z.record(z.string().regex(OBJECT_HASH), z.string()),
  /** Binary objects, base64 (absent in bundles written before checkpoints). */
  blobs: z.record(z.string().regex(OBJECT_HASH), z.string()).optional(),
});
export type ThreadBundle = z.infer<typeof ThreadBundle>;

/** A file that is not a readable, valid bundle. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
  constructor(readonly file: string, detail: string) {
    super(`${file} is not a valid Unroll bundle: ${detail}`);
  }
}

/**
 * Builds the bundle of a thread from its histories and the store that holds its objects.
 * The histories are written as given (as stored on the server: encrypted payloads stay
 * encrypted); the objects they reference are found in `options.readable`, the same
 * histories with their payloads decoded, when they are encrypted. Objects are written as
 * their plaintext canonical JSON (the backend decrypts them).
 */
export async function createBundle(histories: ThreadHistories, backend: StoreBackend, options: { now?: Date; readable?: ThreadHistories } = {}): Promise<ThreadBundle> {
  const now = options.now ?? new Date();
  const { objects, blobs } = await closeOverObjects(backend, hashesInHistories(options.readable ?? histories));
  const sorted = [...objects.entries()].sort(([a], [b]) => a.localeCompare(b));
  const sortedBlobs = [...blobs.entries()].sort(([a], [b]) => a.localeCompare(b));
  return {
    format: 'unroll-bundle',
    version: 1,
    threadId: histories.threadId,
    exportedAt: now.toISOString(),
    workflows: histories.workflows.map((w) => ({
      workflowId: w.workflowId,
      runId: w.runId,
      workflowType: w.workflowType,
      history: historyToPlain(w.history),
    })),
    objects: Object.fromEntries(sorted.map(([hash, data]) => [hash, data.toString('utf8')])),
    ...(sortedBlobs.length > 0 ? { blobs: Object.fromEntries(sortedBlobs.map(([hash, data]) => [hash, data.toString('base64')])) } : {}),
  };
}

/** Every object of a bundle as bytes: JSON objects and blobs. */
function bundleEntries(bundle: ThreadBundle): [string, Buffer][] {
  return [
    ...Object.entries(bundle.objects).map(([hash, text]): [string, Buffer] => [hash, Buffer.from(text)]),
    ...Object.entries(bundle.blobs ?? {}).map(([hash, b64]): [string, Buffer] => [hash, Buffer.from(b64, 'base64')]),
  ];
}

/** Writes a bundle gzip'd, atomically (temp file + rename). */
export async function writeBundle(file: string, bundle: ThreadBundle): Promise<void> {
  const data = await gzipAsync(Buffer.from(JSON.stringify(bundle)));
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

/** Reads and validates a bundle; throws {@link BundleError} naming what is wrong. */
export async function readBundle(file: string): Promise<ThreadBundle> {
  let json: unknown;
  try {
    const raw = await fs.readFile(file);
    const text = raw[0] === 0x1f && raw[1] === 0x8b ? (await gunzipAsync(raw)).toString('utf8') : raw.toString('utf8');
    json = JSON.parse(text);
  } catch (err) {
    throw new BundleError(file, err instanceof Error ? err.message : String(err));
  }
  const parsed = ThreadBundle.safeParse(json);
  if (!parsed.success) throw new BundleError(file, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  for (const [hash, text] of Object.entries(parsed.data.objects)) {
    if (sha256Hex(text) !== hash) throw new BundleError(file, `object ${hash} does not match its hash`);
  }
  for (const [hash, b64] of Object.entries(parsed.data.blobs ?? {})) {
    if (sha256Hex(Buffer.from(b64, 'base64')) !== hash) throw new BundleError(file, `blob ${hash} does not match its hash`);
  }
  return parsed.data;
}

/** The histories of a bundle, as Temporal History objects. */
export function bundleHistories(bundle: ThreadBundle, file = 'bundle'): ThreadHistories {
  return {
    threadId: bundle.threadId,
    workflows: bundle.workflows.map((w) => {
      try {
        return { workflowId: w.workflowId, runId: w.runId, workflowType: w.workflowType, history: historyFromPlain(w.history) };
      } catch (err) {
        throw new BundleError(file, `history of ${w.workflowId} (${w.runId}): ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  };
}

/** A read-only view of the bundle's objects as a transcript store (in memory). */
export function bundleStore(bundle: ThreadBundle): TranscriptStore {
  return new TranscriptStore(new MemoryStoreBackend(bundleEntries(bundle)));
}

/** Copies the bundle's objects into a store; returns how many it holds. */
export async function importObjects(bundle: ThreadBundle, backend: StoreBackend): Promise<number> {
  const entries = bundleEntries(bundle);
  for (const [hash, data] of entries) await backend.put(hash, data);
  return entries.length;
}
