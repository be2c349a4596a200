/**
 * Checks on what a chaos run left on disk: workspace trees compared by content hash,
 * and the transcript store walked object by object (each must hash to its name) and
 * chain by chain (everything reachable from a recorded head must load).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isToolOutput } from '../../src/items/schemas';
import { FsStoreBackend, TranscriptStore } from '../../src/store';
import { OBJECT_HASH } from '../../src/store/canonical-json';
import { CorruptObjectError, ObjectNotFoundError } from '../../src/store/errors';

/** Relative path → `file:<sha256>`, `link:<target>` or `dir` (directories only when empty). */
export type Tree = Map<string, string>;

/** Hashes every entry under `root`. */
export async function hashTree(root: string): Promise<Tree> {
  const tree: Tree = new Map();
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    if (entries.length === 0 && dir !== root) tree.set(path.relative(root, dir), 'dir');
    for (const entry of entries) {
      const abs = path.join(dir, entry.name);
      const rel = path.relative(root, abs);
      if (entry.isDirectory()) await walk(abs);
      else if (entry.isSymbolicLink()) tree.set(rel, `link:${await fs.readlink(abs)}`);
      else tree.set(rel, `file:${createHash('sha256').update(await fs.readFile(abs)).digest('hex')}`);
    }
  };
  await walk(root);
  return tree;
}

/** Paths whose entry differs between two trees (missing on one side counts), sorted. */
export function treeDifferences(expected: Tree, actual: Tree): string[] {
  const paths = new Set([...expected.keys(), ...actual.keys()]);
  return [...paths]
    .filter((p) => expected.get(p) !== actual.get(p))
    .sort()
    .map((p) => `${p} (${!expected.has(p) ? 'unexpected' : !actual.has(p) ? 'missing' : 'different content'})`);
}

/** What walking the store found. */
export interface StoreReport {
  readonly objects: number;
  /** Objects that do not hash to their name, or are not JSON. */
  readonly corrupted: string[];
  /** Hashes referenced from a head, a node or a tool-result marker that are not stored. */
  readonly lost: string[];
  /** Temporary files of interrupted writes (harmless: never renamed into place). */
  readonly tempFiles: number;
  readonly headsChecked: number;
  readonly chainsLoaded: number;
  readonly toolResultMarkers: number;
}

/**
 * Walks the store under `storeRoot`: every object file, then every chain from `heads`
 * and from the turn-head markers, then the output named by every recorded tool result.
 */
export async function verifyStore(storeRoot: string, heads: readonly string[]): Promise<StoreReport> {
  const corrupted = new Set<string>();
  const lost = new Set<string>();
  let objects = 0;
  let tempFiles = 0;
  const check = new ObjectCheck();
  for (const file of await listFiles(path.join(storeRoot, 'objects'))) {
    const name = path.basename(path.dirname(file)) + path.basename(file);
    if (path.basename(file).startsWith('.tmp-')) {
      tempFiles += 1;
      continue;
    }
    objects += 1;
    check.add(name, await fs.readFile(file));
  }
  for (const name of check.corrupted()) corrupted.add(name);
  const markerRoot = path.join(storeRoot, 'markers');
  const markerHeads: string[] = [];
  // A marker write cut short by a kill leaves its `.tmp-*` file (empty, or partly written): not a marker.
  const markers = async (dir: string) => (await listFiles(path.join(markerRoot, dir))).filter((file) => !path.basename(file).startsWith('.tmp-'));
  for (const file of await markers('heads')) markerHeads.push((await fs.readFile(file, 'utf8')).trim());
  const allHeads = [...new Set([...heads, ...markerHeads])];
  // A fresh store: nothing comes from a cache filled while the run was writing.
  const store = new TranscriptStore(new FsStoreBackend(storeRoot));
  let chainsLoaded = 0;
  for (const head of allHeads) {
    if (await checkChain(store, head, lost, corrupted)) chainsLoaded += 1;
  }
  let toolResultMarkers = 0;
  for (const file of await markers('calls')) {
    const value = await fs.readFile(file, 'utf8');
    if (!value.startsWith('done ')) continue;
    toolResultMarkers += 1;
    const { outputHash } = JSON.parse(value.slice(5)) as { outputHash: string };
    await loadObject(() => store.getItem(outputHash), outputHash, lost, corrupted);
  }
  return { objects, corrupted: [...corrupted], lost: [...lost], tempFiles, headsChecked: allHeads.length, chainsLoaded, toolResultMarkers };
}

/** Loads every node and item from `head` to its root; true when all of it loaded. */
export async function checkChain(store: TranscriptStore, head: string, lost: Set<string>, corrupted: Set<string>): Promise<boolean> {
  let ok = true;
  for (let cursor: string | null = head; cursor !== null; ) {
    const hash: string = cursor;
    const node = await loadObject(() => store.getNode(hash), hash, lost, corrupted);
    if (!node) return false;
    for (const item of node.items) ok = (await loadObject(() => store.getItem(item), item, lost, corrupted)) !== undefined && ok;
    cursor = node.parent;
  }
  if (ok) {
    // The same chain through the public API, as a worker loads it.
    const items = await store.loadTranscript(head);
    ok = items.every((s) => !isToolOutput(s.item) || typeof s.item.output === 'string');
  }
  return ok;
}

/** Runs `load`; a missing or corrupt object is noted under `hash` and gives undefined. */
export async function loadObject<T>(load: () => Promise<T>, hash: string, lost: Set<string>, corrupted: Set<string>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof ObjectNotFoundError) lost.add(hash);
    else if (err instanceof CorruptObjectError) corrupted.add(hash);
    else throw err;
    return undefined;
  }
}

/**
 * The check of every stored object: its bytes must hash to its name and parse as JSON,
 * save the git bundles that workspace checkpoints (src/checkpoints) store as blobs: a
 * non-JSON object passes when a checkpoint record in the same store names it.
 */
export class ObjectCheck {
  private readonly bad = new Set<string>();
  private readonly notJson = new Set<string>();
  private readonly bundles = new Set<string>();

  /** Checks one object. */
  add(name: string, data: Buffer): void {
    if (!OBJECT_HASH.test(name) || createHash('sha256').update(data).digest('hex') !== name) this.bad.add(name);
    else if (!parsesAsJson(data)) this.notJson.add(name);
    else {
      const value = JSON.parse(data.toString('utf8')) as { kind?: unknown; bundle?: unknown } | null;
      if (value?.kind === 'checkpoint' && typeof value.bundle === 'string') this.bundles.add(value.bundle);
    }
  }

  /** The objects found corrupted, once every object was added. */
  corrupted(): string[] {
    return [...this.bad, ...[...this.notJson].filter((name) => !this.bundles.has(name))];
  }
}

/** True when `data` is a JSON document. */
/** A workspace checkpoint's git bundle (src/checkpoints): the store's only non-JSON objects. */
export function isGitBundle(data: Buffer): boolean {
  const head = data.subarray(0, 16).toString('latin1');
  return head.startsWith('# v2 git bundle\n') || head.startsWith('# v3 git bundle\n');
}

export function parsesAsJson(data: Buffer): boolean {
  try {
    JSON.parse(data.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
