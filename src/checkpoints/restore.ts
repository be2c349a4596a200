/**
 * Using checkpoints: writing one's files into a directory (checkout, fork, failover to an
 * empty place), resetting a thread's workspace to one (rewind, failover onto an old copy),
 * and comparing two (show --step, diff). Any host can do it: the commits come from the
 * store's bundles (./chain.ts), the shadow repository is only a cache.
 *
 * Safety: git writes the files, and git never writes through a symbolic link (a path
 * whose leading directory is a symlink is replaced, not followed), so nothing outside the
 * target directory is touched. A workspace reset deletes only files the snapshot engine
 * knows: files of the current state that are not ignored. Ignored files (node_modules,
 * .env, build outputs) and everything outside the workspace stay.
 */
import * as fs from 'node:fs/promises';
import type { TranscriptStore } from '../store';
import { fetchCheckpoint } from './chain';
import { ShadowRepo, STATE_REF } from './shadow-git';
import { FileChange, type CheckpointObject } from './types';

/** Where the shadow repositories of a host (or a client) live, and which git to run. */
export interface CheckpointPlace {
  readonly store: TranscriptStore;
  /** The directory of shadow repositories (a cache). */
  readonly root: string;
  /** Whose repository to use as the cache: any thread works, its own is fastest. */
  readonly threadId: string;
  readonly gitBinary?: string;
}

/**
 * Writes checkpoint `id`'s files into `target` (created if missing). Files of the same
 * name are replaced; other files in `target` are left alone (callers refuse a non-empty
 * directory unless told otherwise). Returns the checkpoint's record.
 */
export async function checkoutCheckpoint(place: CheckpointPlace, id: string, target: string): Promise<CheckpointObject> {
  const repo = await ShadowRepo.open(place.root, place.threadId, [], place.gitBinary);
  const record = await fetchCheckpoint(place.store, repo, id);
  await fs.mkdir(target, { recursive: true });
  const index = repo.tempPath('index');
  try {
    await repo.git(['read-tree', record.commit], { indexFile: index });
    await repo.git(['checkout-index', '--all', '--force'], { indexFile: index, workTree: target });
  } finally {
    await fs.rm(index, { force: true });
  }
  return record;
}

/**
 * Makes the thread's workspace `workspace` what checkpoint `id` recorded: files the
 * checkpoint has are written, files the workspace has that are neither in it nor ignored
 * are removed, ignored files stay. Afterwards the thread's next snapshot is taken
 * relative to `id`. Returns the checkpoint's record.
 */
export async function resetWorkspace(place: CheckpointPlace & { readonly exclude?: readonly string[] }, id: string, workspace: string): Promise<CheckpointObject> {
  const repo = await ShadowRepo.open(place.root, place.threadId, place.exclude ?? [], place.gitBinary);
  const record = await fetchCheckpoint(place.store, repo, id);
  await fs.mkdir(workspace, { recursive: true });
  const state = await repo.state();
  const index = repo.tempPath('index');
  try {
    // Start from what the snapshot engine knew (the last state's index, with its stat
    // data), then learn what is in the workspace now, so removal covers both.
    if (state !== undefined) await fs.copyFile(`${repo.gitDir}/index`, index).catch(() => undefined);
    await repo.git(['add', '--all'], { indexFile: index, workTree: workspace });
    await repo.git(['read-tree', '--reset', '-u', record.commit], { indexFile: index, workTree: workspace });
    await repo.forgetState();
    await fs.rename(index, `${repo.gitDir}/index`);
    await repo.git(['update-ref', STATE_REF, record.commit]);
    await repo.setState(id);
  } finally {
    await fs.rm(index, { force: true });
  }
  return record;
}

/** The empty tree: the "before" of a thread's first checkpoint. */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/**
 * How checkpoint `to` differs from `from` (null: from an empty workspace; undefined:
 * from `to`'s parent), as changed paths and, with `patch`, a unified diff.
 */
export async function compareCheckpoints(
  place: CheckpointPlace,
  from: string | null | undefined,
  to: string,
  options: { readonly patch?: boolean } = {},
): Promise<{ changes: FileChange[]; patch: string | null }> {
  const repo = await ShadowRepo.open(place.root, place.threadId, [], place.gitBinary);
  const target = await fetchCheckpoint(place.store, repo, to);
  const baseId = from === undefined ? target.parent : from;
  const base = baseId === null ? EMPTY_TREE : (await fetchCheckpoint(place.store, repo, baseId)).commit;
  const raw = await repo.git(['diff-tree', '-r', '-z', '--no-renames', '--name-status', base, target.commit]);
  const fields = raw.split('\0');
  const changes: FileChange[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) changes.push(FileChange.parse({ status: fields[i], path: fields[i + 1] }));
  const patch = options.patch ? await repo.git(['diff', '--no-color', '--no-ext-diff', '--no-textconv', base, target.commit]) : null;
  return { changes, patch };
}

/** The paths checkpoint `id` holds, sorted as git sorts them. */
export async function checkpointFiles(place: CheckpointPlace, id: string): Promise<string[]> {
  const repo = await ShadowRepo.open(place.root, place.threadId, [], place.gitBinary);
  const record = await fetchCheckpoint(place.store, repo, id);
  return (await repo.git(['ls-tree', '-r', '-z', '--name-only', record.commit])).split('\0').filter((p) => p.length > 0);
}
