/**
 * Applies an `apply_patch` patch to a workspace, all or nothing. Three stages, each in
 * its own module:
 *
 * 1. Plan (./plan.ts): every path is checked (./paths.ts) and every hunk located
 *    (./match.ts) against an in-memory view of the files; nothing is written unless the
 *    whole patch fits.
 * 2. Journal (./journal.ts): with a call journal (the tool activity gives one), the plan
 *    is recorded, as before/after hashes per path, before the workspace is touched.
 * 3. Write (./commit.ts): new contents go to temporaries first, then replace their
 *    targets; any I/O failure rolls the whole patch back.
 *
 * A retried activity call finds its journal and finishes exactly what the interrupted
 * attempt left undone (or reports what something else changed meanwhile); it never
 * re-plans a half-applied patch, so no part of a patch is applied twice.
 */
import { randomBytes } from 'node:crypto';
import type { CallJournal } from '../types';
import { isStaged, removeLeftovers, writeFiles, type StepHook, type WriteFailure } from './commit';
import { PatchVerificationError } from './errors';
import { changesOf, conflictMessage, describeProgress, dirsOf, journalOf, parseJournal, PatchJournalError, slotsOf, slotStates, type FileSlot, type PatchJournal, type SlotState } from './journal';
import { parsePatch, PatchParseError } from './parser';
import { planPatch, type FileChange, type PatchPlan, type PlannedWrite } from './plan';
import { resolveOperations } from './paths';

export type { FileChange } from './plan';

/**
 * The result of {@link applyPatch}. On success `changes` lists every operation of the
 * patch in order, and `alreadyApplied` is true when the files already had all of them
 * (nothing was written); `resumed` is set when a retry finished a journaled patch its
 * interrupted attempt had started. On failure nothing was written and `error` explains why.
 */
export type ApplyPatchOutcome = { ok: true; changes: FileChange[]; alreadyApplied: boolean; resumed?: true } | { ok: false; error: string };

/** Every verification failure message starts with this, as in Codex. */
export const VERIFICATION_FAILED = 'apply_patch verification failed: ';

/** Every failure to write a verified patch starts with this. */
export const WRITE_FAILED = 'apply_patch failed while writing files: ';

/** Restrictions and durability for one application. */
export interface ApplyPatchOptions {
  /** Absolute paths (files or directories) under which nothing may be added, changed or deleted. */
  readonly readOnlyPaths?: readonly string[];
  /**
   * Without a journal only: true when this may be a retry of an attempt that already
   * applied the patch, so a file to delete that is missing counts as deleted by it.
   */
  readonly retry?: boolean;
  /**
   * Where the plan is recorded before the workspace is touched, kept across retries of
   * the same call. A call that finds a journal resumes it instead of planning again.
   */
  readonly journal?: CallJournal;
  /** Test hook, see {@link StepHook}; absent in normal runs. */
  readonly onStep?: StepHook;
}

/**
 * Parses `patchText` and applies it to the files under `cwd` (an absolute workspace
 * path). Paths that are absolute, leave the workspace or pass through a symlink that
 * leads out of it are refused, and so are paths under `options.readOnlyPaths` (also
 * through symlinks). Nothing is written unless the whole patch is valid and every hunk
 * locates, and a write that fails part-way (a full disk) is rolled back. Never throws
 * for a bad patch, a refused path or a refused write: those return `{ ok: false, error }`
 * (starting with {@link VERIFICATION_FAILED} or {@link WRITE_FAILED}); only
 * infrastructure failures (the journal cannot be read or written) throw.
 */
export async function applyPatch(patchText: string, cwd: string, options: ApplyPatchOptions = {}): Promise<ApplyPatchOutcome> {
  const recorded = await options.journal?.read();
  if (recorded !== undefined) return resume(recorded, patchText, cwd, options);
  const planned = await planOrExplain(patchText, cwd, options.readOnlyPaths ?? [], options.retry ?? false);
  if (!planned.ok) return planned;
  const { plan } = planned;
  if (plan.files.length === 0) return { ok: true, changes: [...plan.changes], alreadyApplied: plan.alreadyApplied };
  const journal = journalOf(plan, cwd, randomBytes(8).toString('hex'));
  await options.journal?.write(JSON.stringify(journal));
  const slots = slotsOf(journal, cwd);
  const failure = await writeFiles({ slots, todo: slots, contents: contentsOf(plan), dirs: dirsOf(journal, cwd), onStep: options.onStep });
  if (failure) return { ok: false, error: writeFailureMessage(failure) };
  return { ok: true, changes: [...plan.changes], alreadyApplied: false };
}

type Planned = { ok: true; plan: PatchPlan } | { ok: false; error: string };

async function planOrExplain(patchText: string, cwd: string, readOnlyPaths: readonly string[], retry: boolean): Promise<Planned> {
  try {
    const { operations } = parsePatch(patchText);
    const resolved = await resolveOperations(operations, cwd, readOnlyPaths);
    return { ok: true, plan: await planPatch(resolved, retry) };
  } catch (error) {
    if (error instanceof PatchParseError) return { ok: false, error: `${VERIFICATION_FAILED}invalid patch: ${error.message}` };
    if (error instanceof PatchVerificationError) return { ok: false, error: `${VERIFICATION_FAILED}${error.message}` };
    throw error;
  }
}

function contentsOf(plan: PatchPlan): Map<number, Exclude<PlannedWrite, null>> {
  const contents = new Map<number, Exclude<PlannedWrite, null>>();
  for (const [index, file] of plan.files.entries()) if (file.write !== null) contents.set(index, file.write);
  return contents;
}

function writeFailureMessage({ error, unrestored }: WriteFailure): string {
  const outcome =
    unrestored.length === 0
      ? 'No file was changed'
      : `The rollback could not restore ${unrestored.map((rel) => `'${rel}'`).join(', ')} (patched content kept); every other file is unchanged`;
  const full = ['ENOSPC', 'EDQUOT'].includes((error.cause as NodeJS.ErrnoException | undefined)?.code ?? '');
  return `${WRITE_FAILED}${error.message}. ${outcome}; ${full ? 'free some space' : 'fix the cause'}, then send the patch again if it is still needed.`;
}

/**
 * A retry of a journaled call: finishes what the interrupted attempt left undone, with
 * the same output the first attempt would have given, or explains why it cannot.
 */
async function resume(recorded: string, patchText: string, cwd: string, options: ApplyPatchOptions): Promise<ApplyPatchOutcome> {
  let journal: PatchJournal;
  try {
    journal = parseJournal(recorded);
  } catch (error) {
    if (!(error instanceof PatchJournalError)) throw error;
    const message = `apply_patch could not resume this call after its worker stopped: ${error.message}. Nothing was applied by the retry; re-read the files the patch touches and send a new patch if needed.`;
    return { ok: false, error: message };
  }
  const slots = slotsOf(journal, cwd);
  const states = await slotStates(slots);
  if (states.includes('other')) {
    await removeLeftovers(slots);
    return { ok: false, error: conflictMessage(slots, states) };
  }
  const todo = slots.filter((_, i) => states[i] === 'before');
  const done = { ok: true as const, changes: changesOf(journal), alreadyApplied: false, resumed: true as const };
  if (todo.length === 0) {
    await removeLeftovers(slots);
    return done;
  }
  const contents = await missingContents({ journal, slots, states, todo }, patchText, cwd, options);
  if (!contents.ok) return contents;
  const failure = await writeFiles({ slots, todo, contents: contents.contents, dirs: dirsOf(journal, cwd), onStep: options.onStep });
  if (failure) return { ok: false, error: writeFailureMessage(failure) };
  return done;
}

/** What a retry found: the journal, its slots, where each stands, and the ones still to do. */
interface Found {
  readonly journal: PatchJournal;
  readonly slots: readonly FileSlot[];
  readonly states: readonly SlotState[];
  readonly todo: readonly FileSlot[];
}

type Contents = { ok: true; contents: Map<number, Exclude<PlannedWrite, null>> } | { ok: false; error: string };

/**
 * New content for the todo slots whose temporary the interrupted attempt did not finish
 * staging. Staging ends before the first target is replaced, so that only happens when
 * no path is patched yet; the workspace is then exactly as the first attempt planned it
 * against, and planning again must give the journaled result.
 */
async function missingContents(found: Found, patchText: string, cwd: string, options: ApplyPatchOptions): Promise<Contents> {
  const { journal, slots, states, todo } = found;
  const unstaged: FileSlot[] = [];
  for (const slot of todo) if (slot.after !== null && !(await isStaged(slot))) unstaged.push(slot);
  if (unstaged.length === 0) return { ok: true, contents: new Map() };
  const lost = (why: string): Contents => {
    const error = `apply_patch could not finish this patch after its worker stopped part-way: ${why}. Nothing was applied again. ${describeProgress(slots, states)} Re-read these files and send a new patch for whatever is still needed.`;
    return { ok: false, error };
  };
  if (states.includes('after')) return lost(`the new content of ${unstaged.map((s) => `'${s.rel}'`).join(', ')} staged by the interrupted attempt is gone`);
  const planned = await planOrExplain(patchText, cwd, options.readOnlyPaths ?? [], false);
  if (!planned.ok) return { ok: false, error: planned.error };
  const again = journalOf(planned.plan, cwd, journal.id);
  if (JSON.stringify(again.files) !== JSON.stringify(journal.files)) return lost('planning the patch again gives a different result than the interrupted attempt planned');
  const all = contentsOf(planned.plan);
  return { ok: true, contents: new Map(unstaged.map((slot) => [slot.index, all.get(slot.index)!])) };
}
