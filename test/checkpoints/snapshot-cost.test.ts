/**
 * What keeps a snapshot's cost proportional to what changed (see bench/checkpoints.ts):
 * the shadow index keeps git's untracked cache between snapshots, so an unchanged
 * directory is not read again; new directories, which git lists as one entry, are still
 * snapshotted file by file and counted exactly against the size cap; and the git runner
 * reports a failing command with its exit code and message.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkoutCheckpoint, DEFAULT_CHECKPOINT_SETTINGS, snapshotWorkspace, type CheckpointOutcome, type CheckpointSettings } from '../../src/checkpoints';
import { openFsStore, type TranscriptStore } from '../../src/store';
import { fileTree, writeFiles } from '../support/file-trees';

let dir: string;
let store: TranscriptStore;
let ws: string;
let root: string;
const THREAD = 'thread-cost';

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-ckpt-cost-'));
  store = openFsStore(path.join(dir, 'home'));
  ws = path.join(dir, 'ws');
  root = path.join(dir, 'host');
  await fs.mkdir(ws);
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function snap(previous: string | null, settings: CheckpointSettings = DEFAULT_CHECKPOINT_SETTINGS, gitBinary?: string): Promise<CheckpointOutcome> {
  return snapshotWorkspace({ store, root, threadId: THREAD, workspace: ws, previous, settings, label: 'step 1.1', gitBinary });
}

function created(outcome: CheckpointOutcome): Extract<CheckpointOutcome, { kind: 'created' }> {
  if (outcome.kind !== 'created') throw new Error(`expected a checkpoint, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/**
 * How many directories a `git status` on the thread's shadow repository opens, from git's
 * own trace: 0 when the untracked cache the snapshots left is valid for this workspace.
 */
async function directoriesStatusOpens(): Promise<number> {
  const [repoName] = await fs.readdir(root);
  const trace = path.join(dir, 'trace');
  execFileSync('git', ['-c', 'core.untrackedCache=true', 'status', '--porcelain=v1', '-z', '--untracked-files=normal'], {
    cwd: ws,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, GIT_DIR: path.join(root, repoName), GIT_WORK_TREE: ws, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_OPTIONAL_LOCKS: '0', GIT_TRACE2_PERF: trace },
  });
  const opened = /opendir:(\d+)/.exec(await fs.readFile(trace, 'utf8'));
  if (!opened) throw new Error('git status did not report its untracked-cache statistics (is the cache on?)');
  return Number(opened[1]);
}

/** Sets the modification time of `top` and every directory under it `seconds` into the past. */
async function backdateDirectories(top: string, seconds: number): Promise<void> {
  const then = new Date(Date.now() - seconds * 1000);
  for (const entry of await fs.readdir(top, { recursive: true, withFileTypes: true })) {
    if (entry.isDirectory()) await fs.utimes(path.join(entry.parentPath, entry.name), then, then);
  }
  await fs.utimes(top, then, then);
}

describe('snapshot cost', () => {
  test('after a snapshot, the shadow index’s untracked cache lets git status skip every unchanged directory', async () => {
    const files: Record<string, string> = {};
    for (let d = 0; d < 6; d++) for (let f = 0; f < 3; f++) files[`pkg${d}/src/f${f}.ts`] = `export const v${d}${f} = ${f};\n`;
    await writeFiles(ws, files);
    // Directories changed in the same second as the index are "racy" for git, which then
    // reads them again whatever the cache says; a real workspace's are older than that.
    await backdateDirectories(ws, 10);
    const first = created(await snap(null));
    await writeFiles(ws, { 'pkg2/src/f1.ts': 'export const edited = true;\n' });
    created(await snap(first.id));
    expect(await directoriesStatusOpens()).toBe(0);
  });

  test('a file added to an existing directory after a snapshot is still found', async () => {
    await writeFiles(ws, { 'src/a.ts': 'a\n', 'src/deep/b.ts': 'b\n' });
    const first = created(await snap(null));
    expect(await snap(first.id)).toEqual({ kind: 'unchanged', id: first.id });
    await writeFiles(ws, { 'src/deep/c.ts': 'c\n' });
    expect(created(await snap(first.id)).changes).toEqual([{ path: 'src/deep/c.ts', status: 'A' }]);
  });

  test('a new directory is snapshotted file by file, without the ignored files in it', async () => {
    await writeFiles(ws, { 'a.txt': 'a\n' });
    const first = created(await snap(null));
    await writeFiles(ws, { 'lib/x.ts': 'x\n', 'lib/sub/y.ts': 'y\n', 'lib/node_modules/dep/index.js': 'dep\n', 'lib/.env.local': 'SECRET=1\n', 'empty-but-ignored/dist/out.js': 'out\n' });
    const second = created(await snap(first.id));
    expect([...second.changes].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'lib/sub/y.ts', status: 'A' },
      { path: 'lib/x.ts', status: 'A' },
    ]);
    expect(second.files).toBe(3);
    const out = path.join(dir, 'out');
    await checkoutCheckpoint({ store, root: path.join(dir, 'other-host'), threadId: THREAD }, second.id, out);
    expect(await fileTree(out)).toEqual(await fileTree(ws, ['lib/node_modules', 'lib/.env.local', 'empty-but-ignored']));
  });

  test('the size cap counts the files of a new directory, but not the ignored ones', async () => {
    const cap: CheckpointSettings = { enabled: true, maxBytes: 2000 };
    await writeFiles(ws, { 'a.txt': 'a\n' });
    const first = created(await snap(null, cap));
    await writeFiles(ws, { 'new/small.txt': 'small\n', 'new/node_modules/big.bin': Buffer.alloc(5000, 'x') });
    const second = created(await snap(first.id, cap));
    expect(second.changes).toEqual([{ path: 'new/small.txt', status: 'A' }]);
    await writeFiles(ws, { 'more/deeper/big.bin': Buffer.alloc(3000, 'y') });
    const third = await snap(second.id, cap);
    expect(third).toEqual({ kind: 'skipped', reason: expect.stringMatching(/over the checkpoint size cap/) });
  });

  test('a git command that fails is reported with its exit code and message, and the step is skipped', async () => {
    await writeFiles(ws, { 'a.txt': 'a\n' });
    const failingGit = path.join(dir, 'failing-git');
    await fs.writeFile(failingGit, '#!/bin/sh\necho "fatal: simulated failure" >&2\nexit 128\n', { mode: 0o755 });
    expect(await snap(null, DEFAULT_CHECKPOINT_SETTINGS, failingGit)).toEqual({ kind: 'skipped', reason: 'git init failed (exit 128): fatal: simulated failure' });
  });
});
