/**
 * Checkpoints in the store: reading their records, walking their chain, and bringing a
 * checkpoint's commit into a host's shadow repository by applying the bundles it is
 * missing, oldest first (each bundle's prerequisites are its parent's commit).
 */
import * as fs from 'node:fs/promises';
import { CorruptObjectError, type TranscriptStore } from '../store';
import type { ShadowRepo } from './shadow-git';
import { CheckpointObject } from './types';

/** A checkpoint id that does not name a checkpoint in this store. */
export class CheckpointNotFoundError extends Error {
  override readonly name = 'CheckpointNotFoundError';
  constructor(
    readonly id: string,
    readonly detail: string,
  ) {
    super(`checkpoint ${id} cannot be read: ${detail}`);
  }
}

/** Reads a checkpoint record; throws the store's ObjectNotFoundError/CorruptObjectError. */
export async function readCheckpoint(store: TranscriptStore, id: string): Promise<CheckpointObject> {
  const parsed = CheckpointObject.safeParse(await store.getValue(id, 'checkpoint'));
  if (!parsed.success) throw new CorruptObjectError(id, `not a checkpoint record: ${parsed.error.message}`, 'checkpoint');
  return parsed.data;
}

/** The chain of checkpoints ending at `id`, oldest first, stopping after one `stop` accepts. */
export async function checkpointChain(
  store: TranscriptStore,
  id: string,
  stop: (record: CheckpointObject) => Promise<boolean> = () => Promise.resolve(false),
): Promise<{ id: string; record: CheckpointObject }[]> {
  const chain: { id: string; record: CheckpointObject }[] = [];
  for (let cursor: string | null = id; cursor !== null; ) {
    const record = await readCheckpoint(store, cursor);
    chain.push({ id: cursor, record });
    if (await stop(record)) break;
    cursor = record.parent;
  }
  return chain.reverse();
}

/** Every store object a checkpoint needs (records and bundles of its whole chain). */
export async function checkpointObjects(store: TranscriptStore, id: string): Promise<string[]> {
  const chain = await checkpointChain(store, id);
  return chain.flatMap(({ id: recordId, record }) => [recordId, record.bundle]);
}

/**
 * Makes `repo` hold checkpoint `id`'s commit, applying the bundles it lacks from the
 * store, oldest first. One git process checks which commits the repository already has
 * (it reads the chain's small records from the store first), so a host that has most of
 * the chain pays only for the bundles it misses. Returns the checkpoint's record.
 */
export async function fetchCheckpoint(store: TranscriptStore, repo: ShadowRepo, id: string): Promise<CheckpointObject> {
  const target = await readCheckpoint(store, id);
  if (await repo.hasCommit(target.commit)) return target;
  const chain = await checkpointChain(store, id);
  const present = await repo.presentCommits(chain.map((c) => c.record.commit));
  // Everything after the newest present commit is missing (a bundle's prerequisites are its parent's commit).
  let from = 0;
  chain.forEach((c, i) => {
    if (present.has(c.record.commit)) from = i + 1;
  });
  for (const { record } of chain.slice(from)) {
    const file = repo.tempPath('bundle');
    try {
      await fs.writeFile(file, await store.getBlob(record.bundle, 'checkpoint bundle'));
      await repo.git(['bundle', 'unbundle', file]);
    } finally {
      await fs.rm(file, { force: true });
    }
  }
  if (!(await repo.hasCommit(target.commit))) {
    throw new CheckpointNotFoundError(id, `its bundle chain does not hold commit ${target.commit}`);
  }
  return target;
}
