import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  checkoutCheckpoint,
  compareCheckpoints,
  DEFAULT_CHECKPOINT_SETTINGS,
  readCheckpoint,
  resetWorkspace,
  snapshotWorkspace,
  type CheckpointOutcome,
  type CheckpointSettings,
} from '../../src/checkpoints';
import { openFsStore, type TranscriptStore } from '../../src/store';
import { fileTree, writeFiles } from '../support/file-trees';

let dir: string;
let store: TranscriptStore;
let ws: string;
const THREAD = 'thread-ckpt';

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-ckpt-'));
  store = openFsStore(path.join(dir, 'home'));
  ws = path.join(dir, 'ws');
  await fs.mkdir(ws);
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function snap(previous: string | null, settings: CheckpointSettings = DEFAULT_CHECKPOINT_SETTINGS, root = path.join(dir, 'host-a'), extra: { gitBinary?: string } = {}): Promise<CheckpointOutcome> {
  return snapshotWorkspace({ store, root, threadId: THREAD, workspace: ws, previous, settings, label: 'step 1.1', ...extra });
}

function created(outcome: CheckpointOutcome): Extract<CheckpointOutcome, { kind: 'created' }> {
  if (outcome.kind !== 'created') throw new Error(`expected a checkpoint, got ${JSON.stringify(outcome)}`);
  return outcome;
}

async function storeObjectCount(): Promise<number> {
  const files = await fs.readdir(path.join(dir, 'home', 'store'), { recursive: true, withFileTypes: true });
  return files.filter((f) => f.isFile()).length;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'u', GIT_AUTHOR_EMAIL: 'u@x', GIT_COMMITTER_NAME: 'u', GIT_COMMITTER_EMAIL: 'u@x' } });
}

describe('workspace checkpoints', () => {
  test('a snapshot holds the workspace without ignored paths, and leaves the user’s git repository as it was', async () => {
    await writeFiles(ws, {
      'src/a.ts': 'export const a = 1;\n',
      'README.md': '# hi\n',
      '.gitignore': 'secret-notes.txt\n',
      'secret-notes.txt': 'ignored by .gitignore',
      'node_modules/x/index.js': 'dependency',
      '.env': 'API_KEY=1',
      'dist/out.js': 'build output',
    });
    await fs.symlink('src/a.ts', path.join(ws, 'link-to-a'));
    await fs.chmod(path.join(ws, 'README.md'), 0o755);
    git(ws, 'init', '-q');
    git(ws, 'add', 'README.md');
    git(ws, 'commit', '-qm', 'user commit');
    const userGitBefore = await fileTree(path.join(ws, '.git'));

    const first = created(await snap(null));
    expect(first.changes.map((c) => c.path).sort()).toEqual(['.gitignore', 'README.md', 'link-to-a', 'src/a.ts']);
    expect(first.files).toBe(4);
    expect(await fileTree(path.join(ws, '.git'))).toEqual(userGitBefore);

    const out = path.join(dir, 'checkout');
    await checkoutCheckpoint({ store, root: path.join(dir, 'client'), threadId: THREAD }, first.id, out);
    const expected = await fileTree(ws, ['.git', 'node_modules', 'dist', '.env', 'secret-notes.txt']);
    expect(await fileTree(out)).toEqual(expected);
  });

  test('an unchanged workspace gives no new checkpoint and writes nothing to the store', async () => {
    await writeFiles(ws, { 'a.txt': 'a\n' });
    const first = created(await snap(null));
    const objects = await storeObjectCount();
    expect(await snap(first.id)).toEqual({ kind: 'unchanged', id: first.id });
    await writeFiles(ws, { 'a.txt': 'a\n' }); // rewritten with the same bytes: still unchanged
    expect(await snap(first.id)).toEqual({ kind: 'unchanged', id: first.id });
    expect(await storeObjectCount()).toBe(objects);
  });

  test('a later checkpoint lists what changed and stores only the new objects', async () => {
    const big = Buffer.alloc(2_000_000, 'x');
    await writeFiles(ws, { 'big.bin': big, 'a.txt': 'a\n', 'gone.txt': 'bye\n' });
    const first = created(await snap(null));
    await writeFiles(ws, { 'a.txt': 'changed\n', 'new/b.txt': 'b\n' });
    await fs.rm(path.join(ws, 'gone.txt'));
    const second = created(await snap(first.id));
    expect([...second.changes].sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: 'a.txt', status: 'M' },
      { path: 'gone.txt', status: 'D' },
      { path: 'new/b.txt', status: 'A' },
    ]);
    expect(second.files).toBe(3);
    expect(second.bytes).toBe(big.length + 'changed\n'.length + 'b\n'.length);
    expect(second.bundleBytes).toBeLessThan(2_000);
    expect((await readCheckpoint(store, second.id)).parent).toBe(first.id);
  });

  test('a workspace over the size cap is not snapshotted, and the reason names the setting', async () => {
    await writeFiles(ws, { 'big.bin': Buffer.alloc(3000, 'x') });
    const objects = await fs.readdir(path.join(dir, 'home')).catch(() => []);
    const outcome = await snap(null, { enabled: true, maxBytes: 1000 });
    expect(outcome.kind).toBe('skipped');
    expect(outcome.kind === 'skipped' && outcome.reason).toMatch(/over the checkpoint size cap .*unroll\.checkpoints\.max_bytes/);
    expect(await fs.readdir(path.join(dir, 'home')).catch(() => [])).toEqual(objects);
  });

  test('without git the step is skipped with a reason, not failed', async () => {
    await writeFiles(ws, { 'a.txt': 'a\n' });
    const outcome = await snap(null, DEFAULT_CHECKPOINT_SETTINGS, path.join(dir, 'host-a'), { gitBinary: path.join(dir, 'no-such-git') });
    expect(outcome).toEqual({ kind: 'skipped', reason: expect.stringMatching(/git is not available on this host/) });
  });

  test('another host restores a checkpoint from the store alone, and snapshots on from it', async () => {
    await writeFiles(ws, { 'a.txt': 'one\n' });
    const first = created(await snap(null));
    await writeFiles(ws, { 'a.txt': 'two\n' });
    const second = created(await snap(first.id));

    const wsB = path.join(dir, 'ws-b');
    await resetWorkspace({ store, root: path.join(dir, 'host-b'), threadId: THREAD }, second.id, wsB);
    expect(await fileTree(wsB)).toEqual(await fileTree(ws));
    await writeFiles(wsB, { 'a.txt': 'three\n' });
    const third = created(await snapshotWorkspace({ store, root: path.join(dir, 'host-b'), threadId: THREAD, workspace: wsB, previous: second.id, settings: DEFAULT_CHECKPOINT_SETTINGS, label: 'step 2.1' }));
    expect(third.changes).toEqual([{ path: 'a.txt', status: 'M' }]);
  });

  test('resetting a workspace removes files made since, keeps ignored files, and never writes through a symlink', async () => {
    const outside = path.join(dir, 'outside');
    await fs.mkdir(outside);
    await writeFiles(ws, { 'keep/a.txt': 'a\n', 'b.txt': 'b\n' });
    const first = created(await snap(null));
    await fs.rm(path.join(ws, 'keep'), { recursive: true });
    await fs.symlink(outside, path.join(ws, 'keep')); // keep/ now points outside the workspace
    await writeFiles(ws, { 'later.txt': 'made after\n', 'node_modules/dep.js': 'ignored\n', 'b.txt': 'edited\n' });
    await resetWorkspace({ store, root: path.join(dir, 'host-a'), threadId: THREAD }, first.id, ws);
    expect(await fileTree(ws, ['node_modules'])).toEqual({
      'keep/a.txt': expect.objectContaining({ kind: 'file' }),
      'b.txt': expect.objectContaining({ kind: 'file' }),
    });
    expect(await fs.readFile(path.join(ws, 'b.txt'), 'utf8')).toBe('b\n');
    expect(await fs.readFile(path.join(ws, 'node_modules/dep.js'), 'utf8')).toBe('ignored\n');
    expect(await fs.readdir(outside)).toEqual([]);
    // The next snapshot is taken relative to the restored checkpoint.
    expect(await snap(first.id)).toEqual({ kind: 'unchanged', id: first.id });
  });

  test('files are restored byte for byte whatever the workspace’s .gitattributes ask', async () => {
    await writeFiles(ws, { '.gitattributes': '* text=auto eol=crlf\n', 'unix.txt': 'a\nb\n', 'dos.txt': 'a\r\nb\r\n' });
    const first = created(await snap(null));
    const out = path.join(dir, 'out');
    await checkoutCheckpoint({ store, root: path.join(dir, 'host-c'), threadId: THREAD }, first.id, out);
    expect(await fileTree(out)).toEqual(await fileTree(ws));
  });

  test('comparing checkpoints lists the changed paths and, on request, the diff', async () => {
    await writeFiles(ws, { 'a.txt': 'one\n' });
    const first = created(await snap(null));
    await writeFiles(ws, { 'a.txt': 'two\n', 'b.txt': 'new\n' });
    const second = created(await snap(first.id));
    const place = { store, root: path.join(dir, 'viewer'), threadId: THREAD };
    const step = await compareCheckpoints(place, undefined, second.id, { patch: true });
    expect(step.changes).toEqual([{ path: 'a.txt', status: 'M' }, { path: 'b.txt', status: 'A' }]);
    expect(step.patch).toContain('-one\n+two');
    const fromEmpty = await compareCheckpoints(place, null, first.id);
    expect(fromEmpty.changes).toEqual([{ path: 'a.txt', status: 'A' }]);
  });
});

describe('workspace checkpoints when a directory becomes a symlink', () => {
  test('a directory replaced by a symlink is snapshotted as the link, and restores as the link', async () => {
    await writeFiles(ws, { 'src/a.txt': 'a\n', 'src/b.txt': 'b\n', 'other/c.txt': 'c\n' });
    const first = created(await snap(null));
    await fs.rm(path.join(ws, 'src'), { recursive: true });
    await fs.symlink('other', path.join(ws, 'src'));
    const second = created(await snap(first.id));
    expect([...second.changes].sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: 'src', status: 'A' },
      { path: 'src/a.txt', status: 'D' },
      { path: 'src/b.txt', status: 'D' },
    ]);
    const out = path.join(dir, 'out');
    await checkoutCheckpoint({ store, root: path.join(dir, 'host-z'), threadId: THREAD }, second.id, out);
    expect(await fileTree(out)).toEqual(await fileTree(ws));
  });
});

describe('a damaged shadow repository', () => {
  test('is rebuilt from the store, and the step is checkpointed relative to the previous checkpoint', async () => {
    await writeFiles(ws, { 'a.txt': 'one\n' });
    const first = created(await snap(null));
    const [repoDir] = (await fs.readdir(path.join(dir, 'host-a'))).filter((d) => d.endsWith('.git'));
    await fs.writeFile(path.join(dir, 'host-a', repoDir, 'index'), 'not an index');
    await writeFiles(ws, { 'a.txt': 'two\n' });
    const second = created(await snap(first.id));
    expect(second.changes).toEqual([{ path: 'a.txt', status: 'M' }]);
    expect((await readCheckpoint(store, second.id)).parent).toBe(first.id);
  });
});
