/**
 * The two store kinds under one interface, for tests that must hold on both: each
 * `open` is a fresh, empty store (a temp dir, or a new database on the run's cluster),
 * `reopen` a second handle on the same store (nothing cached), and `rawContents` every
 * byte stored, read past the store's code (the files, or the tables queried directly).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import type { KeyRing } from '../../src/codec/keys';
import type { ConversationItem } from '../../src/items/schemas';
import { openStore, type OpenedStore } from '../../src/store';
import { freshDatabase } from '../support/postgres';
import { testPostgresUrl } from '../support/postgres-env';

/** One store location of either kind. */
export interface StoreLocation {
  readonly spec: string;
  open(keys?: KeyRing | null): OpenedStore;
  /** Every stored object's and marker's bytes, as the medium holds them. */
  rawContents(): Promise<Buffer[]>;
  /** Closes every handle opened here and removes temp dirs. */
  dispose(): Promise<void>;
}

/** The kinds every backend test runs against. */
export const STORE_KINDS = ['file', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** A fresh, empty store of `kind`. */
export async function freshStore(kind: StoreKind): Promise<StoreLocation> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'unroll-store-kind-'));
  const spec = kind === 'file' ? `file:${path.join(home, 'store')}` : await freshDatabase(testPostgresUrl());
  const opened: OpenedStore[] = [];
  return {
    spec,
    open(keys) {
      const store = openStore(spec, { home, keys: keys ?? null });
      opened.push(store);
      return store;
    },
    async rawContents() {
      if (kind === 'file') return readTree(path.join(home, 'store'));
      const client = new Client({ connectionString: spec });
      await client.connect();
      try {
        const objects = await client.query<{ data: Buffer }>('SELECT data FROM unroll_objects');
        const markers = await client.query<{ value: string }>('SELECT value FROM unroll_markers');
        return [...objects.rows.map((r) => r.data), ...markers.rows.map((r) => Buffer.from(r.value))];
      } finally {
        await client.end();
      }
    },
    async dispose() {
      await Promise.all(opened.map((s) => s.close()));
      await rm(home, { recursive: true, force: true });
    },
  };
}

async function readTree(dir: string): Promise<Buffer[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return Promise.all(entries.filter((e) => e.isFile()).map((e) => readFile(path.join(e.parentPath, e.name))));
}

export const user = (text: string): ConversationItem => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
export const call = (id: string): ConversationItem => ({ type: 'function_call', call_id: id, name: 'shell', arguments: `{"command":["echo","${id}"]}` });
export const output = (id: string, text = 'ok'): ConversationItem => ({ type: 'function_call_output', call_id: id, output: text });

/**
 * Appends `steps` nodes to a new thread, each like a step of a turn (a call and its
 * output; every tenth a user message too), and returns the head and every item in order.
 */
export async function writeChain(store: OpenedStore['store'], steps: number, tag = 's'): Promise<{ head: string; items: ConversationItem[] }> {
  let head: string | null = null;
  const items: ConversationItem[] = [];
  for (let i = 0; i < steps; i++) {
    const step = [...(i % 10 === 0 ? [user(`${tag} message ${i}`)] : []), call(`${tag}-${i}`), output(`${tag}-${i}`, `${tag} output ${i}`)];
    head = await store.append(head, step, { step: i });
    items.push(...step);
  }
  if (head === null) throw new Error('writeChain needs at least one step');
  return { head, items };
}
