/**
 * What a workspace checkpoint is, as stored and as recorded. Pure (zod and types only):
 * workflows import the types, activities and the client the schemas.
 *
 * A checkpoint is a commit of a shadow git repository kept outside the workspace. Its
 * durable form is two store objects: the git bundle holding the objects new since the
 * previous checkpoint, and a small JSON record (this module's {@link CheckpointObject})
 * naming the commit, the bundle and the previous checkpoint. The record's store hash is
 * the checkpoint id. Checkpoints chain like transcript nodes, so any host that reaches
 * the store can rebuild the commit by applying the bundles from the first one on.
 */
import { z } from 'zod';

const HASH = z.string().regex(/^[0-9a-f]{64}$/);
const GIT_ID = z.string().regex(/^[0-9a-f]{40}$/);

/** How one file differs between a checkpoint and the previous one. */
export const FileChange = z.object({
  path: z.string().min(1),
  /** Git's letter: A added, M modified, D deleted, T type changed (file/symlink). */
  status: z.enum(['A', 'M', 'D', 'T']),
});
export type FileChange = z.infer<typeof FileChange>;

/** The most changed paths a checkpoint record lists (the count is always exact). */
export const MAX_LISTED_CHANGES = 1000;

/** The most changed paths a step's record in history lists (the store's record has more). */
export const MAX_RECORDED_CHANGES = 50;

/** A checkpoint as stored (its hash is the checkpoint id). */
export const CheckpointObject = z.object({
  kind: z.literal('checkpoint'),
  version: z.literal(1),
  /** The shadow repository's commit. */
  commit: GIT_ID,
  /** The previous checkpoint's id, null for the thread's first. */
  parent: HASH.nullable(),
  /** The store hash of the git bundle with the objects `commit` adds to `parent`'s commit. */
  bundle: HASH,
  /** Files in the snapshot and their total size in bytes. */
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /** Paths changed since `parent` (at most {@link MAX_LISTED_CHANGES}), and how many there are. */
  changes: z.array(FileChange),
  changeCount: z.number().int().nonnegative(),
});
export type CheckpointObject = z.infer<typeof CheckpointObject>;

/**
 * What a checkpoint attempt recorded for a step (the checkpoint activity's result, kept
 * in the turn's history):
 * - `created`: the workspace changed; `id` names the new checkpoint.
 * - `unchanged`: the workspace is as the previous checkpoint `id` left it (null: it is
 *   empty, or nothing was ever snapshotted and there is nothing to snapshot); no new objects.
 * - `skipped`: no checkpoint could be taken, for `reason` (over the size cap, git missing,
 *   unreadable files); the step's files cannot be restored.
 */
export type CheckpointOutcome =
  | {
      readonly kind: 'created';
      readonly id: string;
      readonly commit: string;
      readonly files: number;
      readonly bytes: number;
      readonly changeCount: number;
      readonly changes: readonly FileChange[];
      /** Bytes of the bundle written to the store. */
      readonly bundleBytes: number;
    }
  | { readonly kind: 'unchanged'; readonly id: string | null }
  | { readonly kind: 'skipped'; readonly reason: string };

/** A thread's checkpoint settings, recorded with its settings at thread start. */
export const CheckpointSettings = z.object({
  /** False: no step is snapshotted (checkout, fork with files, rewind and failover restore nothing). */
  enabled: z.boolean(),
  /** A workspace whose snapshot would hold more than this many bytes is not snapshotted. */
  maxBytes: z.number().int().positive(),
  /** Excludes added to the defaults, in .gitignore syntax. */
  exclude: z.array(z.string().min(1)).optional(),
});
export type CheckpointSettings = z.infer<typeof CheckpointSettings>;

/** 512 MiB: a source tree plus some assets; build outputs and dependencies are excluded. */
export const DEFAULT_CHECKPOINT_MAX_BYTES = 512 * 1024 * 1024;

/** The checkpoint settings of a thread that names none. */
export const DEFAULT_CHECKPOINT_SETTINGS: CheckpointSettings = { enabled: true, maxBytes: DEFAULT_CHECKPOINT_MAX_BYTES };

/**
 * Paths never snapshotted, besides the workspace's own .gitignore files: dependency
 * trees, build outputs, virtualenvs, caches and environment files (which hold secrets).
 */
export const DEFAULT_EXCLUDES: readonly string[] = [
  'node_modules/',
  '.venv/',
  'venv/',
  '__pycache__/',
  '*.pyc',
  '.tox/',
  '.mypy_cache/',
  '.pytest_cache/',
  'target/',
  'dist/',
  'build/',
  'out/',
  '.next/',
  '.gradle/',
  '.cache/',
  '.terraform/',
  '.DS_Store',
  '.env*',
];
