/**
 * The client's side of workspace checkpoints: where it caches checkpoint commits, how it
 * prepares a directory to receive a workspace, and writing one there (checkout, fork
 * with files). Checkpoints come from the thread's store (or a bundle's objects), so any
 * host that reaches the store can do this, without a worker.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkoutCheckpoint, CheckpointNotFoundError, GitCommandError, GitUnavailableError, type CheckpointPlace } from '../checkpoints';
import type { WorkspaceAt } from '../history/workspace-at';
import { CorruptObjectError, ObjectNotFoundError, TranscriptStore } from '../store';
import type { StoreBackend } from '../store/backend';
import { DebugUsageError } from './debug-command';

/**
 * The shadow repository the client uses as its cache for a thread's checkpoints: under
 * the host's checkpoint root, apart from the worker's own repository of the thread
 * (whose index and excludes a snapshot relies on), so a checkout never disturbs a
 * running turn.
 */
export function clientPlace(store: TranscriptStore, checkpointRoot: string, threadId: string): CheckpointPlace {
  return { store, root: checkpointRoot, threadId: `client-${threadId}` };
}

/** A directory that cannot receive a workspace (not empty without --force, not a directory). */
export class TargetDirectoryError extends DebugUsageError {}

/**
 * Checks that `dir` may receive a workspace: it does not exist, or is an empty
 * directory, or `force` is set (then files of the same name are overwritten and other
 * files are left alone). Throws {@link TargetDirectoryError}.
 */
export async function assertTargetUsable(dir: string, force: boolean, option = '-C'): Promise<void> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new TargetDirectoryError(`${option} ${dir} is not a directory`);
    throw new TargetDirectoryError(`${option} ${dir} cannot be read: ${(err as Error).message}`);
  }
  if (entries.length > 0 && !force) {
    throw new TargetDirectoryError(`${option} ${dir} is not empty (${entries.length} entries): choose an empty or new directory, or pass --force to overwrite files of the same name (other files are left as they are)`);
  }
}

/** A checkpoint that could not be written out: missing or corrupt objects, or git trouble. */
export class CheckoutFailedError extends Error {
  override readonly name = 'CheckoutFailedError';
}

/**
 * Writes the workspace `at` names into `dir` (created if missing; an empty workspace
 * gives an empty directory). Returns how many files it holds.
 */
export async function writeWorkspace(place: CheckpointPlace, at: WorkspaceAt, dir: string): Promise<number> {
  await fs.mkdir(dir, { recursive: true });
  if (at.checkpoint === null) return 0;
  try {
    return (await checkoutCheckpoint(place, at.checkpoint, dir)).files;
  } catch (err) {
    if (err instanceof ObjectNotFoundError || err instanceof CorruptObjectError || err instanceof CheckpointNotFoundError) {
      throw new CheckoutFailedError(`the checkpoint of step ${at.step} (${at.checkpoint}) cannot be read from the store: ${err.message}`);
    }
    if (err instanceof GitUnavailableError || err instanceof GitCommandError) throw new CheckoutFailedError(`writing the workspace of step ${at.step} into ${dir} failed: ${err.message}`);
    throw err;
  }
}

/** The default workspace of a fork: a new directory under the Unroll home, named by the fork. */
export function forkWorkspaceDir(home: string, threadId: string): string {
  return path.join(home, 'workspaces', threadId);
}

/**
 * A read view of two stores (two sides of `diff` may come from a bundle and a server):
 * objects from the first, else the second. Writes go to the first (nothing here writes
 * but git's cache, which is not the store).
 */
export function eitherStore(first: TranscriptStore, second: TranscriptStore): TranscriptStore {
  if (first === second || first.backend === second.backend) return first;
  const [a, b] = [first.backend, second.backend];
  const backend: StoreBackend = {
    get: async (hash) => (await a.get(hash)) ?? b.get(hash),
    has: async (hash) => (await a.has(hash)) || b.has(hash),
    put: (hash, data, links) => a.put(hash, data, links),
    putMarker: (key, value) => a.putMarker(key, value),
    getMarker: (key) => a.getMarker(key),
  };
  return new TranscriptStore(backend);
}
