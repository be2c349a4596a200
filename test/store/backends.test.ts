/**
 * The backend contract, on both store kinds (the file store and the PostgreSQL store on
 * the run's private cluster): the same tests, the same expectations, except where a test
 * says what differs (round trips) and why.
 */
import { randomBytes } from 'node:crypto';
import { MissingEncryptionKeyError } from '../../src/codec/errors';
import { KeyRing } from '../../src/codec/keys';
import { canonicalJson, sha256Hex } from '../../src/store/canonical-json';
import { checkStore, ObjectNotFoundError } from '../../src/store';
import { call, freshStore, output, STORE_KINDS, user, writeChain, type StoreKind, type StoreLocation } from './store-fixtures';

const keys = new KeyRing([{ id: 'test-key', key: randomBytes(32) }]);

describe.each(STORE_KINDS)('the %s store', (kind: StoreKind) => {
  let location: StoreLocation;

  beforeEach(async () => {
    location = await freshStore(kind);
  });
  afterEach(async () => {
    await location.dispose();
  });

  it('stores an object once: put is idempotent, get and has see it, and a second put never replaces it', async () => {
    const { store } = location.open();
    const first = Buffer.from('{"first":true}');
    const hash = sha256Hex(first);
    expect(await store.backend.has(hash)).toBe(false);
    expect(await store.backend.get(hash)).toBeUndefined();
    await store.backend.put(hash, first);
    await store.backend.put(hash, first);
    await store.backend.put(hash, Buffer.from('{"second":true}'));
    expect(await store.backend.has(hash)).toBe(true);
    expect(await location.open().store.backend.get(hash)).toEqual(first);
  });

  it('keeps markers: absent, written, replaced, and rejects a key that is not a marker key', async () => {
    const { store } = location.open();
    expect(await store.getMarker('exec/call_1')).toBeUndefined();
    await store.putMarker('exec/call_1', 'started');
    await store.putMarker('exec/call_1', 'finished');
    await store.putMarker('exec/call_2', '');
    const other = location.open().store;
    expect(await other.getMarker('exec/call_1')).toBe('finished');
    expect(await other.getMarker('exec/call_2')).toBe('');
    await expect(store.putMarker('../escape', 'x')).rejects.toThrow(new TypeError('not a marker key: "../escape"'));
    await expect(store.backend.get('not-a-hash')).rejects.toThrow(new TypeError('not an object hash: "not-a-hash"'));
  });

  it('loads a 50-node chain equal to what was written, and to the file store loading the same chain', async () => {
    const { head, items } = await writeChain(location.open().store, 50);
    const loaded = await location.open().store.loadTranscript(head);
    expect(loaded.map((s) => s.item)).toEqual(items);
    expect(loaded.map((s) => s.hash)).toEqual(items.map((item) => sha256Hex(canonicalJson(item))));

    const reference = await freshStore('file');
    try {
      const written = await writeChain(reference.open().store, 50);
      expect(written.head).toBe(head);
      expect(await reference.open().store.loadTranscript(written.head)).toEqual(loaded);
    } finally {
      await reference.dispose();
    }
  });

  it('says which node is missing when a chain is broken', async () => {
    const { store } = location.open();
    const ghost = sha256Hex('no such node');
    const head = await store.putNode(ghost, [await store.putItem(user('orphan'))]);
    await expect(location.open().store.loadTranscript(head)).rejects.toThrow(new ObjectNotFoundError(ghost, 'transcript node'));
    const missingItem = sha256Hex('no such item');
    const broken = await store.putNode(null, [missingItem]);
    await expect(location.open().store.loadTranscript(broken)).rejects.toThrow(new ObjectNotFoundError(missingItem, 'item'));
  });

  it('gives both writers the same objects when two handles put the same items at once', async () => {
    const a = location.open().store;
    const b = location.open().store;
    const step = [user('same'), call('c1'), output('c1')];
    const [headA, headB] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, () => a.append(null, step))),
      Promise.all(Array.from({ length: 10 }, () => b.append(null, step))),
    ]);
    expect(new Set([...headA, ...headB]).size).toBe(1);
    expect((await location.open().store.loadTranscript(headA[0])).map((s) => s.item)).toEqual(step);
  });

  it('encrypts at rest: no plaintext in what the medium holds, and only the key opens it', async () => {
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    const { store } = location.open(keys);
    const { head } = await writeChain(store, 12, secret);
    await store.putMarker('exec/secret', secret);
    const raw = await location.rawContents();
    expect(raw.length).toBeGreaterThan(12);
    expect(raw.filter((data) => data.includes(secret))).toEqual([]);
    expect(raw.filter((data) => data.includes('function_call'))).toEqual([]);

    const reader = location.open(keys).store;
    expect((await reader.loadTranscript(head)).map((s) => s.item)).toEqual((await writeChain(location.open(keys).store, 12, secret)).items);
    expect(await reader.getMarker('exec/secret')).toBe(secret);
    await expect(location.open().store.loadTranscript(head)).rejects.toThrow(MissingEncryptionKeyError);
  });

  it('has one store id, the same for every handle and created once even when handles race', async () => {
    const ids = await Promise.all(Array.from({ length: 4 }, () => checkStore(location.open())));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await location.open().storeId()).toBe(ids[0]);
    const other = await freshStore(kind);
    try {
      expect(await other.open().storeId()).not.toBe(ids[0]);
    } finally {
      await other.dispose();
    }
  });

  it('counts the round trips of loading a chain: 2 on postgres whatever its length, one per node and item on files', async () => {
    const writer = location.open();
    const short = await writeChain(writer.store, 5, 'short');
    const long = await writeChain(writer.store, 50, 'long');
    const tripsToLoad = async (head: string) => {
      const reader = location.open();
      await reader.storeId(); // schema set-up is not part of loading
      const before = reader.roundTrips();
      await reader.store.loadTranscript(head);
      return reader.roundTrips() - before;
    };
    const [shortTrips, longTrips] = [await tripsToLoad(short.head), await tripsToLoad(long.head)];
    // 5 nodes + 11 items, 50 nodes + 105 items.
    expect({ shortTrips, longTrips }).toEqual(kind === 'postgres' ? { shortTrips: 2, longTrips: 2 } : { shortTrips: 16, longTrips: 155 });

    // One more step of a turn: write its items and node, then load the new head with
    // the previous chain cached.
    const reader = location.open();
    await reader.store.loadTranscript(long.head);
    const beforeStep = reader.roundTrips();
    const next = await reader.store.append(long.head, [call('next'), output('next')]);
    const afterWrite = reader.roundTrips();
    await reader.store.loadTranscript(next);
    expect({ write: afterWrite - beforeStep, load: reader.roundTrips() - afterWrite }).toEqual({ write: 3, load: kind === 'postgres' ? 2 : 3 });
  });
});
