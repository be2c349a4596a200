/**
 * An oracle for crash and fault runs (tests, `npm run chaos`): did a patch end up
 * applied exactly once, not at all, half, or in some other way (twice)? It applies the
 * patch once to a copy of the workspace as it was before, and compares every path the
 * patch names in the real workspace with that copy and with the original.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyPatch } from './apply';
import { parsePatch } from './parser';
import { hashOnDisk } from './plan';

/** Where one path stands: as after one application, as before, or neither. */
export type PathApplication = 'patched' | 'unchanged' | 'other';

/**
 * `once`: every path as one application leaves it. `not-applied`: every path as before.
 * `partial`: some of each. `unexpected`: some path is neither (applied twice, or mangled).
 */
export type PatchApplication = 'once' | 'not-applied' | 'partial' | 'unexpected';

/** The verdict of {@link checkPatchApplication}. */
export interface PatchApplicationCheck {
  readonly verdict: PatchApplication;
  /** Per path the patch names (relative, `/`-separated). */
  readonly paths: Readonly<Record<string, PathApplication>>;
  /** apply_patch temporaries or backups left anywhere under the workspace (relative paths). */
  readonly leftovers: readonly string[];
}

/** The patch does not apply to the `before` copy: the check cannot say anything. */
export class PatchCheckError extends Error {
  override readonly name = 'PatchCheckError';
}

/** Names apply_patch gives its temporaries and backups (see ./journal.ts). */
export const LEFTOVER_NAME = /^\.unroll-patch-[0-9a-f]{16}-\d+\.(tmp|bak)$/;

/**
 * Compares `workspace` (after the run) with `before` (a copy of it from before the patch,
 * which this leaves untouched) for `patchText`. A path both unchanged and patched (the
 * patch leaves it as it was) counts as patched. Throws {@link PatchCheckError} when the
 * patch does not apply to `before`.
 */
export async function checkPatchApplication(patchText: string, before: string, workspace: string): Promise<PatchApplicationCheck> {
  const expected = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-patch-check-'));
  try {
    await fs.cp(before, expected, { recursive: true, verbatimSymlinks: true });
    const outcome = await applyPatch(patchText, expected);
    if (!outcome.ok) throw new PatchCheckError(`the patch does not apply to ${before}: ${outcome.error}`);
    const paths: Record<string, PathApplication> = {};
    for (const rel of namedPaths(patchText)) {
      const now = await hashOnDisk(path.join(workspace, rel));
      if (now === (await hashOnDisk(path.join(expected, rel)))) paths[rel] = 'patched';
      else paths[rel] = now === (await hashOnDisk(path.join(before, rel))) ? 'unchanged' : 'other';
    }
    return { verdict: verdictOf(Object.values(paths)), paths, leftovers: await leftoversUnder(workspace) };
  } finally {
    await fs.rm(expected, { recursive: true, force: true });
  }
}

function namedPaths(patchText: string): string[] {
  const paths = new Set<string>();
  for (const op of parsePatch(patchText).operations) {
    paths.add(path.posix.normalize(op.path));
    if (op.kind === 'update' && op.moveTo !== null) paths.add(path.posix.normalize(op.moveTo));
  }
  return [...paths];
}

function verdictOf(states: readonly PathApplication[]): PatchApplication {
  if (states.includes('other')) return 'unexpected';
  if (states.every((s) => s === 'patched')) return 'once';
  return states.every((s) => s === 'unchanged') ? 'not-applied' : 'partial';
}

/** Every apply_patch temporary or backup under `dir`, relative to it. */
export async function leftoversUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => LEFTOVER_NAME.test(e.name))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}
