/**
 * Writing a planned patch all or nothing, I/O failures included. Every new content is
 * first written to a temporary next to its target (same directory, so the rename is
 * atomic) and flushed; only then are the targets replaced, one rename each, and a
 * replaced or deleted file's old content is kept as a hard-linked backup until the end.
 * When any step fails (a full disk while staging, a refused rename), every path the
 * patch changed is put back from its backup, temporaries and created directories are
 * removed, and the workspace is as it was.
 *
 * Temporaries and backups are named after the call's journal (see ./journal.ts), so a
 * retry after a crash finds the ones its interrupted attempt left and finishes or clears
 * them. At every instant each target holds either its old or its new content.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { WorkspaceWriteError } from './errors';
import type { FileSlot } from './journal';
import { hashOnDisk, type PlannedWrite } from './plan';

/** Awaited after each file is staged and after each is committed; tests pause there. */
export type StepHook = (step: string) => Promise<void>;

/** What {@link writeFiles} needs: the slots to commit and the content of those not yet staged. */
export interface WriteRequest {
  /** Every slot of the journal, for a rollback of the whole patch. */
  readonly slots: readonly FileSlot[];
  /** Slots to bring to their after state, in order. */
  readonly todo: readonly FileSlot[];
  /** New content per slot index, for the todo slots whose temporary is not staged yet. */
  readonly contents: ReadonlyMap<number, Exclude<PlannedWrite, null>>;
  /** Directories to create (absolute), outermost first. */
  readonly dirs: readonly string[];
  readonly onStep?: StepHook;
}

/** The disk refused a step; `unrestored` lists paths the rollback could not put back. */
export interface WriteFailure {
  readonly error: WorkspaceWriteError;
  readonly unrestored: readonly string[];
}

/**
 * Stages and commits `request.todo`; on success removes backups and returns undefined.
 * On an I/O failure rolls the whole patch back and returns what went wrong. Errors that
 * are not I/O failures of a step (bugs) are thrown after the rollback.
 */
export async function writeFiles(request: WriteRequest): Promise<WriteFailure | undefined> {
  const step: StepHook = request.onStep ?? (() => Promise.resolve());
  try {
    for (const dir of request.dirs) await makeDir(dir, request.slots);
    for (const slot of request.todo) {
      const content = request.contents.get(slot.index);
      if (content === undefined) continue;
      await stage(slot, content);
      await step(`apply_patch:staged:${slot.rel}`);
    }
    for (const slot of request.todo) {
      await commit(slot);
      await step(`apply_patch:committed:${slot.rel}`);
    }
  } catch (error) {
    const unrestored = await rollBack(request.slots, request.dirs);
    if (error instanceof WorkspaceWriteError) return { error, unrestored };
    throw error;
  }
  await removeLeftovers(request.slots);
  return undefined;
}

async function makeDir(dir: string, slots: readonly FileSlot[]): Promise<void> {
  try {
    await fs.mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    const below = slots.find((slot) => slot.abs.startsWith(dir + path.sep));
    throw new WorkspaceWriteError(below?.rel ?? dir, 'creating the directory for', error);
  }
}

/** The new content in the slot's temporary, flushed, with the target's permission bits. */
async function stage(slot: FileSlot, content: Exclude<PlannedWrite, null>): Promise<void> {
  try {
    // 'w', not 'wx': a temporary the interrupted attempt left half-written is replaced.
    const handle = await fs.open(slot.temp, 'w');
    try {
      await handle.writeFile(content.text, 'utf8');
      if (content.mode !== undefined) await handle.chmod(content.mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new WorkspaceWriteError(slot.rel, 'writing', error);
  }
}

/** Replaces (or deletes) the target in one rename, keeping the old content as the backup. */
async function commit(slot: FileSlot): Promise<void> {
  try {
    if (slot.after === null) {
      await fs.rename(slot.abs, slot.backup);
      return;
    }
    if (slot.before !== null) await keepBackup(slot);
    await fs.rename(slot.temp, slot.abs);
  } catch (error) {
    throw new WorkspaceWriteError(slot.rel, slot.after === null ? 'deleting' : 'replacing', error);
  }
}

/** A second name for the old file: costs no space and survives the rename over the first. */
async function keepBackup(slot: FileSlot): Promise<void> {
  await fs.rm(slot.backup, { force: true });
  try {
    await fs.link(slot.abs, slot.backup);
  } catch (error) {
    // File systems without hard links: a copy does the same job, at the price of space.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw error;
    await fs.copyFile(slot.abs, slot.backup);
  }
}

/**
 * Puts every path the patch changed (it holds its after content) back to its before
 * content, last first, then clears temporaries, backups and created directories.
 * Returns the paths that could not be put back (their backup is missing or wrong).
 */
export async function rollBack(slots: readonly FileSlot[], dirs: readonly string[]): Promise<string[]> {
  const unrestored: string[] = [];
  for (const slot of [...slots].reverse()) {
    try {
      if ((await hashOnDisk(slot.abs)) !== slot.after) continue;
      if (slot.before === null) await fs.rm(slot.abs, { force: true });
      else if ((await hashOnDisk(slot.backup)) === slot.before) await fs.rename(slot.backup, slot.abs);
      else unrestored.push(slot.rel);
    } catch {
      unrestored.push(slot.rel);
    }
  }
  await removeLeftovers(slots);
  for (const dir of [...dirs].reverse()) await fs.rmdir(dir).catch(() => undefined);
  return unrestored.reverse();
}

/** Removes the temporaries and backups of `slots`; a failure to remove one is not worth failing for. */
export async function removeLeftovers(slots: readonly FileSlot[]): Promise<void> {
  for (const slot of slots) {
    await fs.rm(slot.temp, { force: true }).catch(() => undefined);
    await fs.rm(slot.backup, { force: true }).catch(() => undefined);
  }
}

/** True when the slot's temporary holds exactly its after content (staged by an earlier attempt). */
export async function isStaged(slot: FileSlot): Promise<boolean> {
  return slot.after !== null && (await hashOnDisk(slot.temp).catch(() => null)) === slot.after;
}
