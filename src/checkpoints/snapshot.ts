/**
 * Taking a checkpoint: snapshot a workspace into its thread's shadow repository and write
 * what is new to the store.
 *
 * The cost follows what changed, not the workspace's size: the shadow index keeps the
 * last snapshot's stat data and git's untracked cache, so `git status` finds changed
 * files without reading the others and skips directories that did not change; only
 * changed paths are staged, and the bundle written to the store holds only the objects
 * the new commit adds to the previous one. An unchanged workspace costs one `git status`
 * and writes nothing. Each git process is a fixed cost (bench/checkpoints.ts measures
 * them), so a step that changed files runs eight, two of them beside others: status,
 * add, diff-index, write-tree, commit-tree (cat-file for the sizes beside these two),
 * then update-ref beside one pack-objects for the bundle. Before anything is hashed,
 * the size of the would-be snapshot is bounded from the file system, so a workspace over
 * the cap is refused without copying it.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { TranscriptStore } from '../store';
import { fetchCheckpoint, readCheckpoint } from './chain';
import { GitCommandError, GitUnavailableError, ShadowRepo, STATE_REF } from './shadow-git';
import { MAX_LISTED_CHANGES, type CheckpointObject, type CheckpointOutcome, type CheckpointSettings, type FileChange } from './types';

/** What {@link snapshotWorkspace} needs. */
export interface SnapshotInput {
  readonly store: TranscriptStore;
  /** The host's directory of shadow repositories. */
  readonly root: string;
  readonly threadId: string;
  readonly workspace: string;
  /** The thread's latest checkpoint (null: none yet). */
  readonly previous: string | null;
  readonly settings: CheckpointSettings;
  /** Names the step in the commit message, e.g. `step 2.3`. */
  readonly label: string;
  /** The git executable (default `git` on PATH). */
  readonly gitBinary?: string;
}

/**
 * Snapshots the workspace. A workspace that cannot be snapshotted (git missing, over the
 * size cap, unreadable files, missing directory) gives a `skipped` outcome naming why;
 * store failures are thrown (the caller's retries handle them).
 */
export async function snapshotWorkspace(input: SnapshotInput): Promise<CheckpointOutcome> {
  const { settings, workspace } = input;
  if (!settings.enabled) return { kind: 'skipped', reason: 'checkpoints are turned off for this thread' };
  const stat = await fs.stat(workspace).catch(() => null);
  if (!stat?.isDirectory()) return { kind: 'skipped', reason: `the workspace ${workspace} is not a readable directory` };
  try {
    try {
      return await snapshot(input);
    } catch (err) {
      if (!(err instanceof GitCommandError) || !BROKEN_REPOSITORY.test(err.stderr)) throw err;
      // The shadow repository is a cache of the store: a damaged one is rebuilt, not kept.
      await fs.rm((await ShadowRepo.open(input.root, input.threadId, [], input.gitBinary)).gitDir, { recursive: true, force: true });
      return await snapshot(input);
    }
  } catch (err) {
    if (err instanceof GitUnavailableError || err instanceof GitCommandError || err instanceof NotSnapshotableError) {
      return { kind: 'skipped', reason: err.message };
    }
    throw err;
  }
}

/** What git says about a damaged repository (index, objects, refs). */
const BROKEN_REPOSITORY = /index file (smaller than expected|corrupt)|bad (index file|signature)|unknown index entry format|corrupt|loose object .* is corrupt|not a git repository|bad object|unable to read tree/i;

class NotSnapshotableError extends Error {
  override readonly name = 'NotSnapshotableError';
}

async function snapshot(input: SnapshotInput): Promise<CheckpointOutcome> {
  const { store, workspace, previous, settings } = input;
  const repo = await ShadowRepo.open(input.root, input.threadId, settings.exclude ?? [], input.gitBinary);
  const prev = previous === null ? null : await readCheckpoint(store, previous);
  await alignIndex(repo, store, previous, prev);

  let warnings = '';
  const onStderr = (text: string) => (warnings += text);
  // Untracked files as git lists them by default (a new directory as one `dir/` entry):
  // that is what the untracked cache serves, so an unchanged directory is not read again.
  const status = await repo.git(['status', '--porcelain=v1', '-z', '--untracked-files=normal', '--no-renames', '--ignore-submodules=all'], {
    workTree: workspace,
    binary: true,
    onStderr,
    optionalLocks: true,
  });
  const listed = parseStatusPaths(status);
  const paths = listed.some((p) => p.endsWith('/')) ? await expandNewDirectories(repo, workspace, listed, onStderr) : listed;
  const denied = /could not open directory '([^']*)'|Permission denied/.exec(warnings);
  if (denied) throw new NotSnapshotableError(`part of the workspace cannot be read (${denied[1] ? `directory ${denied[1]}` : 'permission denied'})`);
  if (paths.length === 0) return { kind: 'unchanged', id: previous };

  await checkSizeBound(repo, workspace, paths, prev, settings.maxBytes);
  await repo.forgetState();
  // Deleted paths leave the index by name: `git add` refuses a path whose directory has
  // become a symlink ("beyond a symbolic link"), and the link itself is added as new.
  const deleted = deletedPaths(status);
  if (deleted.length > 0) await repo.git(['update-index', '--force-remove', '-z', '--stdin'], { input: Buffer.from(deleted.join('\0') + '\0') });
  const added = deleted.length > 0 ? paths.filter((p) => !deleted.includes(p)) : paths;
  if (added.length > 0) await repo.git(['add', '--all', '--pathspec-from-file=-', '--pathspec-file-nul'], { workTree: workspace, literalPathspecs: true, input: Buffer.from(added.join('\0')) });
  // What was staged against the previous checkpoint decides (files may have changed back
  // since status looked); the size count runs while the commit is made.
  const staged = prev ? await stagedChanges(repo, prev) : null;
  if (staged && staged.length === 0) {
    await repo.setState(previous);
    return { kind: 'unchanged', id: previous };
  }
  // The size count runs while the commit is made.
  const commitMade = commitIndex(repo, workspace, prev?.commit ?? null, `unroll ${input.threadId} ${input.label}`);
  const measuring = staged && prev ? measureChanges(repo, prev, staged) : commitMade.then((commit) => wholeTree(repo, commit));
  const [commit, measured] = await Promise.all([commitMade, measuring]);
  if (measured.bytes > settings.maxBytes || (!prev && measured.files === 0)) {
    // The bound above is exact unless files changed while we looked (and a first
    // snapshot is empty only if they vanished): undo the staging.
    await alignIndex(repo, store, previous, prev, true);
    return measured.files === 0 && !prev ? { kind: 'unchanged', id: previous } : { kind: 'skipped', reason: overCap(measured.bytes, settings.maxBytes) };
  }
  // The state ref (the shadow repository's HEAD, what status compares with) moves while the bundle is made.
  const [bundle] = await Promise.all([incrementalBundle(repo, commit, prev?.commit ?? null), repo.git(['update-ref', STATE_REF, commit])]);
  const record: CheckpointObject = {
    kind: 'checkpoint',
    version: 1,
    commit,
    parent: previous,
    bundle: await store.putBlob(bundle),
    files: measured.files,
    bytes: measured.bytes,
    changes: measured.changes.slice(0, MAX_LISTED_CHANGES),
    changeCount: measured.changes.length,
  };
  const id = await store.putValue(record);
  await repo.setState(id);
  return { kind: 'created', id, commit, files: record.files, bytes: record.bytes, changeCount: record.changeCount, changes: record.changes, bundleBytes: bundle.length };
}

/**
 * Commits the index onto `parent` and returns the commit's id (not yet on the state ref).
 * `write-tree` and `commit-tree` rather than one `git commit`: a commit refreshes the whole
 * index first (an lstat() of every tracked file, which `git status` has just done), and on
 * a 10,000-file workspace that cost more than the two processes. The tree is written with
 * the work tree named, so git keeps the index's untracked cache, which it keeps only for
 * the work tree it was made for. The commit's id depends only on its tree, parent and
 * message (fixed identity and dates).
 */
async function commitIndex(repo: ShadowRepo, workspace: string, parent: string | null, message: string): Promise<string> {
  const tree = (await repo.git(['write-tree'], { workTree: workspace })).trim();
  return (await repo.git(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', message])).trim();
}

/**
 * The bundle of what `commit` adds to `base` (the whole commit when null): git's v2
 * bundle format, `base` as its prerequisite and the state ref as its one ref, around a
 * thin pack from one `git pack-objects`. It is what `git bundle create` writes, without
 * the two processes that command starts besides the pack (a rev-list for the
 * prerequisites, and itself), and without needing the ref to point at the commit first.
 */
async function incrementalBundle(repo: ShadowRepo, commit: string, base: string | null): Promise<Buffer> {
  const revs = `${commit}\n${base ? `^${base}\n` : ''}`;
  const pack = await repo.git(['pack-objects', '--stdout', '--thin', '--delta-base-offset', '--revs', '--quiet'], { input: revs, binary: true });
  const header = `# v2 git bundle\n${base ? `-${base}\n` : ''}${commit} ${STATE_REF}\n\n`;
  return Buffer.concat([Buffer.from(header), pack]);
}

/**
 * Makes the shadow index and state ref stand for checkpoint `previous` (fetching it from
 * the store if this host has not got it): after a rewind, a fork, a move to this host or
 * a crash between staging and recording. Cheap when they already do.
 */
async function alignIndex(repo: ShadowRepo, store: TranscriptStore, previous: string | null, prev: CheckpointObject | null, force = false): Promise<void> {
  if (!force && (await repo.state()) === previous) return;
  await repo.forgetState();
  if (prev === null) {
    await repo.git(['read-tree', '--empty']);
    await repo.git(['update-ref', '-d', STATE_REF]).catch(() => undefined);
  } else {
    await fetchCheckpoint(store, repo, previous!);
    await repo.git(['read-tree', prev.commit]);
    await repo.git(['update-ref', STATE_REF, prev.commit]);
  }
  await repo.setState(previous);
}

/** The tracked paths `git status -z --porcelain=v1 --no-renames` lists as deleted from the work tree. */
function deletedPaths(raw: Buffer): string[] {
  return raw
    .toString('utf8')
    .split('\0')
    .filter((entry) => entry.length > 3 && entry[1] === 'D')
    .map((entry) => entry.slice(3));
}

/** The paths `git status -z --porcelain=v1 --no-renames` lists. */
export function parseStatusPaths(raw: Buffer): string[] {
  return raw
    .toString('utf8')
    .split('\0')
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3));
}

/**
 * Refuses, before anything is hashed, a snapshot that would hold more than `maxBytes`:
 * the previous snapshot's size plus the changed paths' sizes on disk, minus their sizes
 * in the previous snapshot when that is what decides.
 */
async function checkSizeBound(repo: ShadowRepo, workspace: string, paths: readonly string[], prev: CheckpointObject | null, maxBytes: number): Promise<void> {
  let bound = prev?.bytes ?? 0;
  for (const file of paths) bound += await sizeOnDisk(path.join(workspace, file));
  if (bound > maxBytes && prev) {
    const input = paths.filter((p) => !p.includes('\n')).map((p) => `${prev.commit}:${p}`).join('\n') + '\n';
    const sizes = await repo.git(['cat-file', '--batch-check=%(objectsize)'], { input });
    for (const line of sizes.split('\n')) if (/^\d+$/.test(line)) bound -= Number(line);
  }
  if (bound > maxBytes) throw new NotSnapshotableError(overCap(bound, maxBytes));
}

function overCap(bytes: number, maxBytes: number): string {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `the workspace would need a snapshot of ${mib(bytes)}, over the checkpoint size cap of ${mib(maxBytes)} (unroll.checkpoints.max_bytes in config.toml; exclude large paths with unroll.checkpoints.exclude or .gitignore)`;
}

async function sizeOnDisk(file: string): Promise<number> {
  try {
    const st = await fs.lstat(file);
    return st.isSymbolicLink() ? (await fs.readlink(file)).length : st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

interface Measured {
  readonly files: number;
  readonly bytes: number;
  readonly changes: FileChange[];
}

/** One staged change: the path, git's letter, and the blobs before and after (null: none). */
interface StagedChange extends FileChange {
  readonly oldBlob: string | null;
  readonly newBlob: string | null;
}

/** The staged changes against the previous checkpoint (empty: the index is that checkpoint). */
async function stagedChanges(repo: ShadowRepo, prev: CheckpointObject): Promise<StagedChange[]> {
  const raw = await repo.git(['diff-index', '--cached', '-z', '--raw', '--no-renames', '--no-abbrev', prev.commit]);
  const fields = raw.split('\0');
  const changes: StagedChange[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [oldMode, newMode, oldSha, newSha, status] = fields[i].slice(1).split(' ');
    const blob = (sha: string, mode: string) => (/^0+$/.test(sha) || mode === '160000' ? null : sha);
    changes.push({ path: fields[i + 1], status: status as FileChange['status'], oldBlob: blob(oldSha, oldMode), newBlob: blob(newSha, newMode) });
  }
  return changes;
}

/** The new snapshot's size and file count, from the previous one's and the changed blobs' sizes. */
async function measureChanges(repo: ShadowRepo, prev: CheckpointObject, staged: readonly StagedChange[]): Promise<Measured> {
  let files = prev.files;
  const blobs: { sha: string; sign: 1 | -1 }[] = [];
  for (const change of staged) {
    if (change.status === 'A') files += 1;
    if (change.status === 'D') files -= 1;
    if (change.oldBlob) blobs.push({ sha: change.oldBlob, sign: -1 });
    if (change.newBlob) blobs.push({ sha: change.newBlob, sign: 1 });
  }
  let bytes = prev.bytes;
  if (blobs.length > 0) {
    const sizes = (await repo.git(['cat-file', '--batch-check=%(objectsize)'], { input: blobs.map((b) => b.sha).join('\n') + '\n' })).split('\n');
    blobs.forEach((b, i) => (bytes += b.sign * Number(sizes[i] ?? 0)));
  }
  return { files, bytes, changes: staged.map(({ path: p, status }) => ({ path: p, status })) };
}

/**
 * The status entries with each new directory (`dir/`, as `--untracked-files=normal`
 * lists one) replaced by the files in it that are not ignored, so the size bound counts
 * exactly what would be staged.
 */
async function expandNewDirectories(repo: ShadowRepo, workspace: string, listed: readonly string[], onStderr: (text: string) => void): Promise<string[]> {
  const dirs = listed.filter((p) => p.endsWith('/'));
  const raw = await repo.git(['ls-files', '-z', '--others', '--exclude-standard', '--', ...dirs], { workTree: workspace, literalPathspecs: true, binary: true, onStderr });
  const files = raw.toString('utf8').split('\0').filter((p) => p.length > 0);
  return [...listed.filter((p) => !p.endsWith('/')), ...files];
}

/** Every file of a first snapshot, as added. */
async function wholeTree(repo: ShadowRepo, tree: string): Promise<Measured> {
  const raw = await repo.git(['ls-tree', '-r', '-l', '-z', tree]);
  const changes: FileChange[] = [];
  let bytes = 0;
  for (const entry of raw.split('\0')) {
    const tab = entry.indexOf('\t');
    if (tab < 0) continue;
    const size = entry.slice(0, tab).trim().split(/\s+/)[3];
    if (/^\d+$/.test(size)) bytes += Number(size);
    changes.push({ path: entry.slice(tab + 1), status: 'A' });
  }
  return { files: changes.length, bytes, changes };
}
