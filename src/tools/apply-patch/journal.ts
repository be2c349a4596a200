/**
 * The journal of one `apply_patch` call: written (as a store marker, see
 * src/activities/tools.ts) after the patch is planned and before anything in the
 * workspace is touched, it lists every path the patch changes with a hash of its content
 * before and after, and the change list the model is told about.
 *
 * An activity retry (the worker died mid-patch) reads it back and looks at each path:
 * holding the `after` content, it is done; holding the `before` content, it is still to
 * do; anything else means something else changed it, and the retry reports that instead
 * of guessing. No part of a patch is ever applied twice, whatever the hunk shape: an
 * append looks the same as an unapplied file to a heuristic, never to a hash.
 */
import * as path from 'node:path';
import { z } from 'zod';
import type { FileChange, PatchPlan } from './plan';
import { hashOnDisk } from './plan';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** The journal as stored. Paths are relative to the workspace, `/`-separated. */
export const PatchJournal = z.object({
  version: z.literal(1),
  /** Names the temporaries and backups of this call, so a retry finds the ones left behind. */
  id: z.string().regex(/^[0-9a-f]{16}$/),
  changes: z.array(z.object({ kind: z.enum(['A', 'M', 'D']), path: z.string(), movedFrom: z.string().optional() })),
  /** Paths whose content changes, in write order; `null` is "no file". */
  files: z.array(z.object({ path: z.string(), before: Sha256.nullable(), after: Sha256.nullable() })),
  /** Directories the patch creates, outermost first. */
  dirs: z.array(z.string()),
});
/** A parsed journal. */
export type PatchJournal = z.infer<typeof PatchJournal>;

/** The journal for `plan` under `cwd`; `id` must be 16 random hex digits. */
export function journalOf(plan: PatchPlan, cwd: string, id: string): PatchJournal {
  const rel = (abs: string): string => path.relative(cwd, abs).split(path.sep).join('/');
  return {
    version: 1,
    id,
    changes: plan.changes.map((change) => ({ ...change })),
    files: plan.files.map((file) => ({ path: file.target.rel, before: file.before, after: file.after })),
    dirs: plan.dirs.map(rel),
  };
}

/** The stored journal is not one this code wrote (corrupted or edited). */
export class PatchJournalError extends Error {
  override readonly name = 'PatchJournalError';
}

/** Parses a stored journal; throws {@link PatchJournalError} naming what is wrong. */
export function parseJournal(text: string): PatchJournal {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new PatchJournalError(`the journal is not JSON (${(error as Error).message})`);
  }
  const parsed = PatchJournal.safeParse(raw);
  if (!parsed.success) throw new PatchJournalError(`the journal does not have the expected shape (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  return parsed.data;
}

/** One journaled path with the names of its temporary (new content) and backup (old content). */
export interface FileSlot {
  readonly index: number;
  readonly rel: string;
  readonly abs: string;
  readonly temp: string;
  readonly backup: string;
  readonly before: string | null;
  readonly after: string | null;
}

/**
 * The slots of `journal` under `cwd`. Temporaries and backups sit next to their target
 * (same directory, so a rename is atomic) under short names that cannot collide with
 * the target's own name length limit.
 */
export function slotsOf(journal: PatchJournal, cwd: string): FileSlot[] {
  return journal.files.map((file, index) => {
    const abs = path.resolve(cwd, file.path);
    const stem = path.join(path.dirname(abs), `.unroll-patch-${journal.id}-${index}`);
    return { index, rel: file.path, abs, temp: `${stem}.tmp`, backup: `${stem}.bak`, before: file.before, after: file.after };
  });
}

/** The directories the patch creates, as absolute paths, outermost first. */
export function dirsOf(journal: PatchJournal, cwd: string): string[] {
  return journal.dirs.map((rel) => path.resolve(cwd, rel));
}

/** Where a journaled path stands: patched, untouched, or changed by something else. */
export type SlotState = 'after' | 'before' | 'other';

/** Compares each path's current content with its journaled before and after hashes. */
export async function slotStates(slots: readonly FileSlot[]): Promise<SlotState[]> {
  return Promise.all(
    slots.map(async (slot) => {
      const current = await hashOnDisk(slot.abs).catch(() => 'unreadable');
      if (current === slot.after) return 'after';
      return current === slot.before ? 'before' : 'other';
    }),
  );
}

/** Which files are patched, which are not, and which something else changed, for messages. */
export function describeProgress(slots: readonly FileSlot[], states: readonly SlotState[]): string {
  const list = (state: SlotState): string => slots.filter((_, i) => states[i] === state).map((s) => `'${s.rel}'`).join(', ') || 'none';
  return `Already patched: ${list('after')}. Not patched: ${list('before')}. Changed by something else: ${list('other')}.`;
}

/** The output for a retry that found a file in neither the before nor the after state. */
export function conflictMessage(slots: readonly FileSlot[], states: readonly SlotState[]): string {
  return (
    'apply_patch could not finish this patch: the worker applying it stopped part-way, and when the call was retried ' +
    'some files held neither their content from before the patch nor the patched content. ' +
    `Nothing was applied again. ${describeProgress(slots, states)} ` +
    'Re-read these files and send a new patch for whatever is still needed.'
  );
}

/** The changes as the model saw them in the journal (same objects the first attempt reported). */
export function changesOf(journal: PatchJournal): FileChange[] {
  return journal.changes.map((c) => (c.movedFrom === undefined ? { kind: c.kind, path: c.path } : { kind: c.kind, path: c.path, movedFrom: c.movedFrom }));
}
