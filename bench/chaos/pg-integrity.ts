/**
 * The store checks of ./integrity.ts for the PostgreSQL store of the two-host mode:
 * every object row must hash to its key and parse as JSON (or be a checkpoint's bundle); every chain from the
 * sessions' heads and the recorded turn heads must load, read through a fresh store
 * opened with the URL (`openStore`, as a worker opens it); every recorded tool result
 * must name an output that exists.
 */
import { Client } from 'pg';
import { openStore } from '../../src/store/open-store';
import type { RecordedCallResult } from './executions';
import { checkChain, loadObject, ObjectCheck, type StoreReport } from './integrity';

/** Reads the markers whose key starts with `prefix`, as key → value. */
async function markers(url: string, prefix: string): Promise<Map<string, string>> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query<{ key: string; value: string }>('SELECT key, value FROM unroll_markers WHERE starts_with(key, $1)', [prefix]);
    return new Map(rows.map((r) => [r.key, r.value]));
  } finally {
    await db.end();
  }
}

/** The recorded tool results (`calls/…` markers that say `done`), by call id. */
export async function readPgCallResults(url: string): Promise<Map<string, RecordedCallResult>> {
  const results = new Map<string, RecordedCallResult>();
  for (const value of (await markers(url, 'calls/')).values()) {
    if (!value.startsWith('done ')) continue;
    const result = JSON.parse(value.slice(5)) as RecordedCallResult;
    results.set(result.callId, result);
  }
  return results;
}

/** Walks the PostgreSQL store at `url`; see the module comment. `home` only satisfies openStore. */
export async function verifyPgStore(url: string, heads: readonly string[], home: string): Promise<StoreReport> {
  const corrupted = new Set<string>();
  const lost = new Set<string>();
  const db = new Client({ connectionString: url });
  await db.connect();
  let objects = 0;
  try {
    const { rows } = await db.query<{ hash: string; data: Buffer }>('SELECT hash, data FROM unroll_objects');
    const check = new ObjectCheck();
    for (const { hash, data } of rows) {
      objects += 1;
      check.add(hash, data);
    }
    for (const hash of check.corrupted()) corrupted.add(hash);
  } finally {
    await db.end();
  }
  const markerHeads = [...(await markers(url, 'heads/')).values()].map((v) => v.trim());
  const allHeads = [...new Set([...heads, ...markerHeads])];
  const opened = openStore(url, { home, poolSize: 2 });
  try {
    let chainsLoaded = 0;
    for (const head of allHeads) if (await checkChain(opened.store, head, lost, corrupted)) chainsLoaded += 1;
    let toolResultMarkers = 0;
    for (const value of (await markers(url, 'calls/')).values()) {
      if (!value.startsWith('done ')) continue;
      toolResultMarkers += 1;
      const { outputHash } = JSON.parse(value.slice(5)) as { outputHash: string };
      await loadObject(() => opened.store.getItem(outputHash), outputHash, lost, corrupted);
    }
    return { objects, corrupted: [...corrupted], lost: [...lost], tempFiles: 0, headsChecked: allHeads.length, chainsLoaded, toolResultMarkers };
  } finally {
    await opened.close();
  }
}
