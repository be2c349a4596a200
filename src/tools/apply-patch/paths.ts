/**
 * Where a patch's paths point: each path is resolved against the workspace and refused
 * when it is absolute, leaves the workspace (lexically or through a symlink) or lies
 * under a path the sandbox keeps read-only. Reads the file system (realpath, lstat) but
 * never writes.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PatchVerificationError } from './errors';
import type { FileOperation, Hunk } from './parser';

/** A path of the patch, resolved. */
export interface Target {
  readonly abs: string;
  /** Relative to the workspace, `/`-separated, for messages and the change list. */
  readonly rel: string;
}

/** A parsed file operation whose paths are resolved and allowed. */
export type ResolvedOperation =
  | { readonly kind: 'add'; readonly target: Target; readonly contents: string }
  | { readonly kind: 'delete'; readonly target: Target }
  | { readonly kind: 'update'; readonly target: Target; readonly moveTo: Target | null; readonly hunks: readonly Hunk[] };

/** A path nothing may be written under, as given and with symlinks resolved. */
interface ReadOnlyPath {
  readonly given: string;
  readonly real: string;
}

/**
 * Resolves every path of `operations` under `cwd`; throws {@link PatchVerificationError}
 * naming the first path that is not allowed (or a missing workspace).
 */
export async function resolveOperations(operations: readonly FileOperation[], cwd: string, readOnlyPaths: readonly string[]): Promise<ResolvedOperation[]> {
  const realCwd = await fs.realpath(cwd).catch((error: NodeJS.ErrnoException) => {
    // A missing workspace is not the patch's fault, but retrying cannot fix it either.
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw new PatchVerificationError(`the workspace '${cwd}' does not exist (${error.code})`);
    throw error;
  });
  const readOnly = await Promise.all(readOnlyPaths.map(async (given) => ({ given, real: await fs.realpath(given).catch(() => given) })));
  const resolve = (raw: string): Promise<Target> => resolveTarget(cwd, realCwd, raw, readOnly);
  const resolved: ResolvedOperation[] = [];
  for (const op of operations) {
    if (op.kind === 'update') {
      const moveTo = op.moveTo === null ? null : await resolve(op.moveTo);
      resolved.push({ kind: 'update', target: await resolve(op.path), moveTo, hunks: op.hunks });
    } else {
      resolved.push(op.kind === 'add' ? { kind: 'add', target: await resolve(op.path), contents: op.contents } : { kind: 'delete', target: await resolve(op.path) });
    }
  }
  return resolved;
}

/** Lexical containment first, then the real path of the deepest existing part, so symlinks cannot lead out. */
async function resolveTarget(cwd: string, realCwd: string, raw: string, readOnly: readonly ReadOnlyPath[]): Promise<Target> {
  if (path.isAbsolute(raw)) {
    throw new PatchVerificationError(`absolute paths are not allowed: '${raw}' (use a path relative to the workspace)`);
  }
  const abs = path.resolve(cwd, raw);
  const rel = path.relative(cwd, abs);
  if (rel === '') throw new PatchVerificationError(`path '${raw}' is the workspace itself, not a file`);
  if (!isInside(cwd, abs)) throw new PatchVerificationError(`path '${raw}' resolves outside the workspace`);
  const existing = await deepestExisting(abs);
  const real = await fs.realpath(existing).catch(() => {
    throw new PatchVerificationError(`path '${raw}' goes through a symlink whose target does not exist`);
  });
  if (!isInside(realCwd, real)) throw new PatchVerificationError(`path '${raw}' goes through a symlink that points outside the workspace`);
  const blocked = readOnly.find((p) => isInside(p.given, abs) || isInside(p.real, real));
  if (blocked) {
    const shown = isInside(cwd, blocked.given) ? path.relative(cwd, blocked.given).split(path.sep).join('/') : blocked.given;
    throw new PatchVerificationError(`path '${raw}' is inside '${shown}', which the sandbox keeps read-only`);
  }
  return { abs, rel: rel.split(path.sep).join('/') };
}

async function deepestExisting(abs: string): Promise<string> {
  let candidate = abs;
  for (;;) {
    try {
      await fs.lstat(candidate);
      return candidate;
    } catch {
      const parent = path.dirname(candidate);
      if (parent === candidate) return candidate;
      candidate = parent;
    }
  }
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}


/**
 * The directories between the deepest existing ancestor of `abs` and `abs`'s parent,
 * outermost first: what writing `abs` would create.
 */
export async function missingParents(abs: string): Promise<string[]> {
  const missing: string[] = [];
  let dir = path.dirname(abs);
  for (;;) {
    try {
      await fs.lstat(dir);
      return missing.reverse();
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return missing.reverse();
      missing.push(dir);
      dir = parent;
    }
  }
}
