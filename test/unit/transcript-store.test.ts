import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { EncryptedStoreBackend } from '../../src/codec/encrypted-backend';
import { KeyRing, KEY_BYTES } from '../../src/codec/keys';
import type { ConversationItem } from '../../src/items/schemas';
import { canonicalJson, sha256Hex } from '../../src/store/canonical-json';
import { CorruptObjectError, FsStoreBackend, ObjectNotFoundError, StoreWriteError, TranscriptStore } from '../../src/store';
import { fillDisk, freeDisk, mountSmallDisk, remountSmallDisk, unmountSmallDisk } from '../support/small-disk';

let root: string;
let store: TranscriptStore;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'unroll-store-'));
  store = new TranscriptStore(new FsStoreBackend(root));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh store over the same directory: nothing cached, everything read from disk. */
function reopen(): TranscriptStore {
  return new TranscriptStore(new FsStoreBackend(root));
}

/** Every file below `dir`, relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

const user = (text: string): ConversationItem => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
const call = (id: string): ConversationItem => ({ type: 'function_call', call_id: id, name: 'shell', arguments: '{"command":["ls"]}' });
const output = (id: string): ConversationItem => ({ type: 'function_call_output', call_id: id, output: 'ok' });

describe('canonicalJson', () => {
  it.each([
    { name: 'top-level keys', a: { b: 1, a: 2 }, b: { a: 2, b: 1 } },
    { name: 'nested keys', a: { x: { d: [1, { z: 1, y: 2 }], c: null } }, b: { x: { c: null, d: [1, { y: 2, z: 1 }] } } },
    { name: 'undefined properties', a: { a: 1, gone: undefined }, b: { a: 1 } },
  ])('gives the same text whatever the order of $name', ({ a, b }) => {
    expect(canonicalJson(a)).toBe(canonicalJson(b));
  });

  it('sorts keys at every level', () => {
    expect(canonicalJson({ b: { d: 1, c: [{ f: 1, e: 2 }] }, a: 'x' })).toBe('{"a":"x","b":{"c":[{"e":2,"f":1}],"d":1}}');
  });

  it('rejects a cyclic value with a TypeError', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(new TypeError('canonicalJson: cyclic value'));
  });
});

describe('TranscriptStore', () => {
  it('stores the same item under the same hash regardless of key order', async () => {
    const a = await store.putItem({ type: 'function_call', call_id: 'c1', name: 'shell', arguments: '{}' });
    const b = await store.putItem({ arguments: '{}', name: 'shell', call_id: 'c1', type: 'function_call' });
    expect(a).toBe(b);
    expect(a).toBe(sha256Hex(canonicalJson({ arguments: '{}', call_id: 'c1', name: 'shell', type: 'function_call' })));
  });

  it('stores different items under different hashes', async () => {
    expect(await store.putItem(user('a'))).not.toBe(await store.putItem(user('b')));
  });

  it('reads back an item it stored, unknown fields included', async () => {
    const item = { ...user('hi'), id: 'msg_1', extra: { kept: true } } as ConversationItem;
    expect(await reopen().getItem(await store.putItem(item))).toEqual(item);
  });

  it('loads a chain of several nodes oldest item first', async () => {
    const batches = [[user('one')], [call('c1'), output('c1')], [], [user('two'), user('three')]];
    let head: string | null = null;
    for (const batch of batches) head = await store.putNode(head, await store.putItems(batch));
    const loaded = await store.loadTranscript(head);
    const all = batches.flat();
    expect(loaded).toEqual(await Promise.all(all.map(async (item) => ({ hash: await store.putItem(item), item }))));
  });

  it('loads the same chain from a fresh store as from the cached one', async () => {
    const first = await store.append(null, [user('one'), call('c1')]);
    const second = await store.append(first, [output('c1')]);
    const third = await store.append(second, [user('two')], { compacted: false });
    // Warm the cache with an ancestor first, so the cached load replays from it.
    await store.loadTranscript(first);
    const cached = await store.loadTranscript(third);
    expect(await reopen().loadTranscript(third)).toEqual(cached);
    expect(cached.map((s) => s.item)).toEqual([user('one'), call('c1'), output('c1'), user('two')]);
  });

  it('loads the null head as the empty transcript', async () => {
    expect(await store.loadTranscript(null)).toEqual([]);
  });

  it('lists a chain of nodes newest first', async () => {
    const a = await store.append(null, [user('a')]);
    const b = await store.append(a, [user('b')]);
    expect(await store.nodeChain(b)).toEqual([b, a]);
  });

  it('stores a node with its parent, items and meta', async () => {
    const item = await store.putItem(user('a'));
    const rootNode = await store.putNode(null, [item]);
    const child = await store.putNode(rootNode, [], { reason: 'compaction' });
    expect(await reopen().getNode(child)).toEqual({ kind: 'node', parent: rootNode, items: [], meta: { reason: 'compaction' } });
    expect(await reopen().getNode(rootNode)).toEqual({ kind: 'node', parent: null, items: [item] });
  });

  it.each([
    { name: 'an item', read: (s: TranscriptStore, h: string) => s.getItem(h), what: 'item' },
    { name: 'a node', read: (s: TranscriptStore, h: string) => s.getNode(h), what: 'transcript node' },
    { name: 'a transcript head', read: (s: TranscriptStore, h: string) => s.loadTranscript(h), what: 'transcript node' },
  ])('throws ObjectNotFoundError naming the hash when $name is missing', async ({ read, what }) => {
    const missing = 'ab'.repeat(32);
    const error = await read(store, missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectNotFoundError);
    expect(error).toMatchObject({ hash: missing, message: `${what} ${missing} is not in the transcript store` });
  });

  it('throws ObjectNotFoundError for an item a stored node refers to but the store lacks', async () => {
    const missing = 'cd'.repeat(32);
    const head = await store.putNode(null, [missing]);
    await expect(reopen().loadTranscript(head)).rejects.toThrow(new ObjectNotFoundError(missing, 'item'));
  });

  it.each([
    { name: 'edited bytes', bytes: (text: string) => text.replace('one', 'two'), detail: 'content does not match its hash' },
    { name: 'a truncated file', bytes: (text: string) => text.slice(0, 5), detail: 'content does not match its hash' },
  ])('throws CorruptObjectError for an object file with $name', async ({ bytes, detail }) => {
    const item = user('one');
    const hash = await store.putItem(item);
    const file = path.join(root, 'objects', hash.slice(0, 2), hash.slice(2));
    await writeFile(file, bytes(canonicalJson(item)));
    const error = await reopen().getItem(hash).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptObjectError);
    expect(error).toMatchObject({ hash, what: 'item', detail, message: `item ${hash} is corrupt: ${detail}` });
  });

  it('throws CorruptObjectError naming a transcript node whose file was overwritten', async () => {
    const head = await store.append(null, [user('one')]);
    await writeFile(path.join(root, 'objects', head.slice(0, 2), head.slice(2)), '{"kind":"node","parent":null,"items":[]}');
    await expect(reopen().loadTranscript(head)).rejects.toThrow(new CorruptObjectError(head, 'content does not match its hash', 'transcript node'));
  });

  it('throws CorruptObjectError, not a decryption error, for a tampered encrypted object', async () => {
    const keys = new KeyRing([{ id: 'k1', key: Buffer.alloc(KEY_BYTES, 7) }]);
    const encrypted = () => new TranscriptStore(new EncryptedStoreBackend(new FsStoreBackend(root), keys));
    const hash = await encrypted().putItem(user('secret'));
    const file = path.join(root, 'objects', hash.slice(0, 2), hash.slice(2));
    const bytes = await readFile(file);
    bytes[bytes.length - 20] ^= 0x01;
    await writeFile(file, bytes);
    const error = await encrypted().getItem(hash).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptObjectError);
    expect(error).toMatchObject({ hash, what: 'item', message: expect.stringMatching(new RegExp(`^item ${hash} is corrupt: cannot decrypt store object ${hash} with key "k1"`)) });
  });

  it('throws CorruptObjectError for an object that hashes right but is not an item', async () => {
    const text = canonicalJson({ type: 'nonsense' });
    const hash = sha256Hex(text);
    await store.backend.put(hash, Buffer.from(text));
    await expect(store.getItem(hash)).rejects.toBeInstanceOf(CorruptObjectError);
  });

  it('lays objects out as objects/ab/cdef… and leaves no temp files behind', async () => {
    const hashes = await store.putItems([user('a'), user('b'), user('a')]);
    const head = await store.putNode(null, hashes);
    await store.putNode(null, hashes); // the same node again is a no-op
    await store.putMarker('calls/c1', 'started');
    await store.putMarker('calls/c1', 'done');
    const expected = [...new Set([...hashes, head])].map((h) => path.join('objects', h.slice(0, 2), h.slice(2)));
    expect((await listFiles(root)).sort()).toEqual([...expected, path.join('markers', 'calls', 'c1')].sort());
  });

  it('reads, writes and overwrites markers, and reads an absent one as undefined', async () => {
    expect(await store.getMarker('t1/c1')).toBeUndefined();
    await store.putMarker('t1/c1', 'started');
    expect(await reopen().getMarker('t1/c1')).toBe('started');
    await store.putMarker('t1/c1', 'done {"ok":true}');
    expect(await reopen().getMarker('t1/c1')).toBe('done {"ok":true}');
  });

  it.each(['../x', 'a/../../x', '..', '/etc/passwd', 'a//b', 'a/', '', 'a b', 'a\\b'])(
    'rejects the marker key %j on write and read',
    async (key) => {
      await expect(store.putMarker(key, 'v')).rejects.toThrow(new TypeError(`not a marker key: ${JSON.stringify(key)}`));
      await expect(store.getMarker(key)).rejects.toThrow(TypeError);
    },
  );

  it('returns the same head when appending no items to an existing head', async () => {
    const head = await store.append(null, [user('a')]);
    expect(await store.append(head, [])).toBe(head);
  });

  it.each([
    { name: 'to the null head', head: null, meta: undefined, parent: null },
    { name: 'with meta', head: 'existing', meta: { reason: 'context' }, parent: 'existing' },
  ])('writes a new empty node when appending no items $name', async ({ head, meta, parent }) => {
    const existing = await store.append(null, [user('a')]);
    const resolve = (h: string | null) => (h === 'existing' ? existing : h);
    const next = await store.append(resolve(head), [], meta);
    expect(next).not.toBe(existing);
    expect(await store.getNode(next)).toEqual({ kind: 'node', parent: resolve(parent), items: [], ...(meta ? { meta } : {}) });
  });
});

/**
 * Writes on a real disk that fails: a tmpfs filled to the last byte or remounted
 * read-only (tests run as root). A write that fails must leave no temporary file behind
 * and say what the filesystem said, in a named error.
 */
describe('FsStoreBackend on a failing disk', () => {
  let disk: string;
  let backend: FsStoreBackend;

  beforeAll(async () => {
    disk = await mkdtemp(path.join(os.tmpdir(), 'unroll-small-disk-'));
    await mountSmallDisk(disk, '64k');
  });
  afterAll(async () => {
    await unmountSmallDisk(disk);
    await rm(disk, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await rm(path.join(disk, 'store'), { recursive: true, force: true });
    backend = new FsStoreBackend(path.join(disk, 'store'));
  });

  const tempFiles = async () => (await listFiles(disk)).filter((f) => path.basename(f).startsWith('.tmp-'));
  const object = (text: string) => ({ hash: sha256Hex(text), data: Buffer.from(text) });

  it('removes the temporary file of an object write that fails on a full disk and throws StoreWriteError(ENOSPC)', async () => {
    const filler = await fillDisk(disk);
    try {
      const { hash, data } = object('{"a":1}');
      const error = await backend.put(hash, data).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreWriteError);
      expect(error).toMatchObject({
        code: 'ENOSPC',
        summary: 'store write failed: no space left on device',
        path: path.join(disk, 'store', 'objects', hash.slice(0, 2), hash.slice(2)),
      });
      expect(await tempFiles()).toEqual([]);
      expect(await backend.has(hash)).toBe(false);
    } finally {
      await freeDisk(filler);
    }
  });

  it('removes the temporary file of a marker write that fails on a full disk', async () => {
    const filler = await fillDisk(disk);
    try {
      await expect(backend.putMarker('calls/c1', 'started')).rejects.toMatchObject({ name: 'StoreWriteError', code: 'ENOSPC' });
      expect(await tempFiles()).toEqual([]);
    } finally {
      await freeDisk(filler);
    }
  });

  it('writes again once space is freed', async () => {
    const filler = await fillDisk(disk);
    const { hash, data } = object('{"b":2}');
    await expect(backend.put(hash, data)).rejects.toBeInstanceOf(StoreWriteError);
    await freeDisk(filler);
    await backend.put(hash, data);
    expect(await backend.get(hash)).toEqual(data);
  });

  it('removes the temporary file when the final rename fails', async () => {
    // A marker whose place is taken by a non-empty directory: rename(2) refuses.
    await mkdir(path.join(disk, 'store', 'markers', 'calls', 'c1', 'x'), { recursive: true });
    await expect(backend.putMarker('calls/c1', 'done')).rejects.toMatchObject({ name: 'StoreWriteError', code: 'EISDIR' });
    expect(await tempFiles()).toEqual([]);
  });

  it('throws StoreWriteError(EROFS) on a read-only disk and still reads what is there', async () => {
    const { hash, data } = object('{"c":3}');
    await backend.put(hash, data);
    await remountSmallDisk(disk, 'ro');
    try {
      const other = object('{"d":4}');
      await expect(backend.put(other.hash, other.data)).rejects.toMatchObject({
        name: 'StoreWriteError',
        code: 'EROFS',
        message: `store write failed: read-only file system (EROFS at ${path.join(disk, 'store', 'objects', other.hash.slice(0, 2), other.hash.slice(2))})`,
      });
      expect(await backend.get(hash)).toEqual(data);
    } finally {
      await remountSmallDisk(disk, 'rw');
    }
  });
});
