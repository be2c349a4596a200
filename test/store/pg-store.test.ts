/**
 * What only the PostgreSQL store has: versioned schema migrations applied once however
 * many workers start together, chain reads batched across the parent links (also for
 * encrypted objects and for objects written straight to the backend, as bundle imports
 * do), and a pool that closes.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { EncryptedStoreBackend } from '../../src/codec/encrypted-backend';
import { KeyRing } from '../../src/codec/keys';
import { canonicalJson, sha256Hex } from '../../src/store/canonical-json';
import { checkStore, openStore, PgStoreBackend, StoreClosedError, TranscriptStore } from '../../src/store';
import { SCHEMA_VERSION } from '../../src/store/pg-schema';
import { freshDatabase } from '../support/postgres';
import { testPostgresUrl } from '../support/postgres-env';
import { call, output, writeChain } from './store-fixtures';

const home = '/nonexistent-unroll-home';
let url: string;
const closers: Array<() => Promise<void>> = [];

beforeEach(async () => {
  url = await freshDatabase(testPostgresUrl());
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function open(keys: KeyRing | null = null) {
  const opened = openStore(url, { home, keys });
  closers.push(() => opened.close());
  return opened;
}

async function sql<R extends Record<string, unknown>>(text: string): Promise<R[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

describe('the PostgreSQL store schema', () => {
  it('is created once when six workers start at the same time on an empty database', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => checkStore(open())));
    expect(new Set(ids).size).toBe(1);
    expect(await sql('SELECT version FROM unroll_schema_migrations ORDER BY version')).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })));
    expect(await sql('SELECT id FROM unroll_store_identity')).toEqual([{ id: ids[0] }]);
  });

  it('is checked in one round trip and left alone when it is already current', async () => {
    const first = await checkStore(open());
    const before = await sql('SELECT version, applied_at FROM unroll_schema_migrations');
    const later = open();
    expect(await checkStore(later)).toBe(first);
    expect(later.roundTrips()).toBe(1);
    expect(await sql('SELECT version, applied_at FROM unroll_schema_migrations')).toEqual(before);
  });
});

describe('chain reads on PostgreSQL', () => {
  it('load an encrypted chain in two round trips (the parent links are taken from the plaintext)', async () => {
    const keys = new KeyRing([{ id: 'k', key: randomBytes(32) }]);
    const { head, items } = await writeChain(open(keys).store, 30);
    const reader = open(keys);
    await reader.storeId();
    const before = reader.roundTrips();
    expect((await reader.store.loadTranscript(head)).map((s) => s.item)).toEqual(items);
    expect(reader.roundTrips() - before).toBe(2);
  });

  it('load objects written straight to the backend, as a bundle import does, in two round trips', async () => {
    const keys = new KeyRing([{ id: 'k', key: randomBytes(32) }]);
    const source = new TranscriptStore(new EncryptedStoreBackend(new PgStoreBackend({ url: await freshDatabase(testPostgresUrl()), description: 'source' }), null));
    closers.push(() => (source.backend as EncryptedStoreBackend & { inner: PgStoreBackend }).inner.close());
    const { head, items } = await writeChain(source, 20);
    const hashes = [...(await source.nodeChain(head)), ...items.map((item) => sha256Hex(canonicalJson(item)))];
    for (const encrypted of [null, keys]) {
      url = await freshDatabase(testPostgresUrl());
      const target = open(encrypted);
      for (const hash of hashes) await target.store.backend.put(hash, (await source.backend.get(hash))!);
      const reader = open(encrypted);
      await reader.storeId();
      const before = reader.roundTrips();
      expect((await reader.store.loadTranscript(head)).map((s) => s.item)).toEqual(items);
      expect(reader.roundTrips() - before).toBe(2);
    }
  });

  it('load a chain longer than one query returns, one more query per batch of nodes', async () => {
    const { head, items } = await writeChain(open().store, 50);
    const backend = new PgStoreBackend({ url, description: 'batched', chainBatch: 7 });
    closers.push(() => backend.close());
    const reader = new TranscriptStore(backend);
    await backend.storeId();
    const before = backend.roundTrips;
    expect((await reader.loadTranscript(head)).map((s) => s.item)).toEqual(items);
    expect(backend.roundTrips - before).toBe(Math.ceil(50 / 7) + 1);
  });

  it('reads only the nodes added since a cached chain', async () => {
    const writer = open().store;
    const { head } = await writeChain(writer, 40);
    const next = await writer.append(head, [call('next'), output('next')]);
    const backend = new NodeCountingBackend({ url, description: 'counting' });
    closers.push(() => backend.close());
    const reader = new TranscriptStore(backend);
    await reader.loadTranscript(head);
    expect(backend.nodesRead).toBe(40);
    expect((await reader.loadTranscript(next)).slice(-2).map((s) => s.item)).toEqual([call('next'), output('next')]);
    expect(backend.nodesRead).toBe(41);
  });
});

/** Counts the nodes its chain reads return. */
class NodeCountingBackend extends PgStoreBackend {
  nodesRead = 0;
  override async getChain(head: string, known: readonly string[]) {
    const rows = await super.getChain(head, known);
    this.nodesRead += rows.length;
    return rows;
  }
}

describe('closing the PostgreSQL store', () => {
  it('ends the pool, tolerates a second close, and names the store when used afterwards', async () => {
    const opened = open();
    await checkStore(opened);
    await opened.close();
    await opened.close();
    await expect(opened.store.getMarker('exec/x')).rejects.toThrow(new StoreClosedError(opened.description));
    expect(opened.description).toMatch(/^postgres:\/\/unroll:\*\*\*@127\.0\.0\.1:\d+\/unroll_test_[0-9a-f]+$/);
  });
});
