/**
 * The workspace commands as a user runs them (the compiled CLI, so `npm run build`
 * first), on a thread recorded with real tools, real git and real files: checkout and
 * fork at a middle step reproduce that step's files exactly, show --step lists the files
 * a step changed and --diff prints the diff, diff reports file differences between a
 * thread and its fork, export/import carries the checkpoints so an imported thread
 * checks out offline, rewind restores the workspace and the transcript point, and a step
 * without a checkpoint makes checkout, fork and rewind past it fail naming the step.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { readBundle } from '../../src/history/bundle';
import { settled } from '../replay/corpus-scenarios';
import { fileTree, writeFiles } from '../support/file-trees';
import { startHarness, type Harness } from '../support/harness';
import { applyPatchCall, assistantMessage, respond, shellCall } from '../support/responses-builders';
import { offlineEnv, runCli } from './run-cli';

jest.setTimeout(240_000);

const START = { 'README.md': 'start\n', '.gitignore': 'scratch/\n' };
/** The workspace's files after each step of the recorded turn (ignored files excluded). */
const AFTER: Record<string, Record<string, string>> = {
  '1.1': { ...START, 'src/a.txt': 'one\n' },
  '1.2': { ...START, 'src/a.txt': 'two\n', 'src/b.txt': 'bee\n' },
  '1.3': { ...START, 'src/a.txt': 'two\n', 'c.txt': 'three\n' },
};

describe('unroll checkout / fork / show --step / diff / export / rewind with files', () => {
  let h: Harness;
  let threadId: string;
  let env: Record<string, string | undefined>;
  let scratch: string;
  const patchCall = applyPatchCall('*** Begin Patch\n*** Update File: src/a.txt\n@@\n-one\n+two\n*** Add File: src/b.txt\n+bee\n*** End Patch');
  const firstCall = shellCall(['bash', '-lc', 'mkdir -p src scratch && echo one > src/a.txt && echo tmp > scratch/t.txt']);

  /** The file tree `files` make, to compare a directory with. */
  async function treeOf(files: Record<string, string>): Promise<Awaited<ReturnType<typeof fileTree>>> {
    const dir = await mkdtemp(path.join(scratch, 'expected-'));
    await writeFiles(dir, files);
    return fileTree(dir);
  }

  beforeAll(async () => {
    h = await startHarness();
    scratch = await mkdtemp(path.join(os.tmpdir(), 'unroll-ws-cli-'));
    await writeFiles(h.workspace, { ...START, 'node_modules/dep/index.js': 'dep' });
    h.model.enqueue(
      respond(firstCall),
      respond(patchCall),
      respond(shellCall(['bash', '-lc', 'rm src/b.txt && echo three > c.txt && echo later > scratch/later.txt'])),
      respond(assistantMessage('done')),
    );
    const run = await h.runThread('make files');
    expect(run.result.status).toBe('completed');
    threadId = run.threadId;
    await settled(h, threadId);
    env = { ...offlineEnv(h.home), UNROLL_TEMPORAL_ADDRESS: h.address, UNROLL_TASK_QUEUE: `ws-cli-${randomUUID()}`, OPENAI_API_KEY: 'test-key' };
  });
  afterAll(async () => {
    await h.close();
    await rm(scratch, { recursive: true, force: true });
  });
  afterEach(() => h.model.assertProtocol());

  test('checkout at a middle step writes exactly that step’s files, and refuses a non-empty directory without --force', async () => {
    const dir = path.join(scratch, 'checkout-1.1');
    const run = await runCli(['checkout', threadId, '--at', '1.1', '-C', dir], env, h.workspace);
    expect(run.stderr).toContain(`checked out thread ${threadId} after step 1.1`);
    expect(run.code).toBe(0);
    expect(await fileTree(dir)).toEqual(await treeOf(AFTER['1.1']));

    const again = await runCli(['checkout', threadId, '--at', '1.2', '-C', dir], env, h.workspace);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`-C ${dir} is not empty`);
    expect(again.stderr).toContain('--force');
    expect(await fileTree(dir)).toEqual(await treeOf(AFTER['1.1']));

    // --force overwrites files of the same name and leaves the others.
    await writeFile(path.join(dir, 'mine.txt'), 'keep me');
    const forced = await runCli(['checkout', threadId, '--at', '1.2', '-C', dir, '--force'], env, h.workspace);
    expect(forced.code).toBe(0);
    expect(await fileTree(dir)).toEqual(await treeOf({ ...AFTER['1.2'], 'mine.txt': 'keep me' }));
  });

  test('checkout never writes through a symlink out of the target directory', async () => {
    const dir = path.join(scratch, 'checkout-link');
    const outside = path.join(scratch, 'outside');
    await mkdir(outside, { recursive: true });
    await mkdir(dir, { recursive: true });
    await symlink(outside, path.join(dir, 'src'));
    const run = await runCli(['checkout', threadId, '--at', '1.2', '-C', dir, '--force'], env, h.workspace);
    expect(run.code).toBe(0);
    expect(await fileTree(outside)).toEqual({});
    expect(await fileTree(dir)).toEqual(await treeOf(AFTER['1.2']));
  });

  test('show --step lists every file the step changed, --diff prints the diff, --json carries them', async () => {
    const run = await runCli(['show', threadId, '--step', '1.2'], env, h.workspace);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/files changed by step 1\.2: 2 \(checkpoint [0-9a-f]{64}\)/);
    expect(run.stdout).toMatch(/ {2}M src\/a\.txt {2}modified/);
    expect(run.stdout).toMatch(/ {2}A src\/b\.txt {2}added/);
    expect(run.stdout).not.toContain('diff --git');

    const diff = await runCli(['show', threadId, '--step', '1.2', '--diff'], env, h.workspace);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('diff --git a/src/a.txt b/src/a.txt');
    expect(diff.stdout).toContain('-one\n+two');
    expect(diff.stdout).toContain('+++ b/src/b.txt');

    const json = JSON.parse((await runCli(['show', threadId, '--step', '1.3', '--json'], env, h.workspace)).stdout);
    expect(json.files).toMatchObject({ status: 'created', changeCount: 2, diff: null });
    expect([...json.files.changes].sort((x: { path: string }, y: { path: string }) => x.path.localeCompare(y.path))).toEqual([
      { path: 'c.txt', status: 'A' },
      { path: 'src/b.txt', status: 'D' },
    ]);
    const list = JSON.parse((await runCli(['show', threadId, '--json'], env, h.workspace)).stdout);
    expect(list.turns[0].steps[1].checkpoint).toMatchObject({ status: 'created', id: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const noStep = await runCli(['show', threadId, '--diff'], env, h.workspace);
    expect(noStep.code).toBe(2);
    expect(noStep.stderr).toContain('--diff needs --step');
  });

  test('fork at a middle step runs its turn in a new directory holding that step’s files, and diff reports the file differences', async () => {
    const catCall = shellCall(['cat', 'src/a.txt']);
    h.model.enqueue(respond(catCall), respond(assistantMessage('it says one')));
    const before = h.model.requests.length;
    const fork = await runCli(['fork', threadId, '--at', '1.1', '--message', 'what is in a.txt?'], env, h.workspace);
    expect(fork.stderr).toContain('files: 3 file(s) as after step 1.1');
    expect(fork.code).toBe(0);
    const forkId = /thread: (th-[\w-]+)/.exec(fork.stderr)![1];
    const dir = path.join(h.home, 'workspaces', forkId);
    expect(fork.stderr).toContain(`cwd: ${dir}`);
    const outputs = h.model.requests[before + 1].input.filter((i) => i.type === 'function_call_output' && i.call_id === catCall.call_id);
    expect(outputs.map((i) => String(i.output))).toEqual([expect.stringContaining('one')]);
    expect(await fileTree(dir)).toEqual(await treeOf(AFTER['1.1']));

    // The fork's own checkpoints chain from its source's: a checkout of its first step.
    const out = path.join(scratch, 'fork-1.1');
    expect((await runCli(['checkout', forkId, '--at', '1.1', '-C', out], env, h.workspace)).code).toBe(0);
    expect(await fileTree(out)).toEqual(await treeOf(AFTER['1.1']));

    const diff = await runCli(['diff', threadId, forkId], env, h.workspace);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(/A 1\.2\s+↔ B 1\.1/);
    expect(diff.stdout).toContain('files differ (B against A): 2 path(s)');
    expect(diff.stdout).toContain('M src/a.txt');
    expect(diff.stdout).toContain('D src/b.txt');
    const json = JSON.parse((await runCli(['diff', threadId, forkId, '--json'], env, h.workspace)).stdout);
    expect(json.pairs[0].differences).toContainEqual({ kind: 'files', changes: expect.arrayContaining([{ path: 'src/a.txt', status: 'M' }, { path: 'src/b.txt', status: 'D' }]) });
  });

  test('fork -C refuses a non-empty directory before anything runs', async () => {
    const dir = path.join(scratch, 'busy');
    await writeFiles(dir, { 'x.txt': 'x' });
    const before = h.model.requests.length;
    const fork = await runCli(['fork', threadId, '--at', '1.1', '-C', dir, '--no-worker'], env, h.workspace);
    expect(fork.code).toBe(2);
    expect(fork.stderr).toContain(`-C ${dir} is not empty`);
    expect(h.model.requests.length).toBe(before);
  });

  test('export carries the checkpoints, and the imported thread (or the bundle itself) checks out with no server and no original store', async () => {
    const file = path.join(scratch, 'thread.unroll.gz');
    const exported = await runCli(['export', threadId, '-o', file], env, h.workspace);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/checkpoint bundle\(s\)/);
    expect(Object.keys((await readBundle(file)).blobs ?? {}).length).toBeGreaterThan(0);

    const fresh = await mkdtemp(path.join(scratch, 'fresh-home-'));
    const offline = offlineEnv(fresh);
    const fromFile = path.join(scratch, 'from-bundle');
    const direct = await runCli(['checkout', file, '--at', '1.2', '-C', fromFile], offline, fresh);
    expect(direct.stderr).toContain('checked out');
    expect(direct.code).toBe(0);
    expect(await fileTree(fromFile)).toEqual(await treeOf(AFTER['1.2']));

    expect((await runCli(['import', file], offline, fresh)).code).toBe(0);
    const imported = path.join(scratch, 'from-import');
    const run = await runCli(['checkout', threadId, '--at', '1.3', '-C', imported], offline, fresh);
    expect(run.stderr).toContain('checked out');
    expect(run.code).toBe(0);
    expect(await fileTree(imported)).toEqual(await treeOf(AFTER['1.3']));
  });

  test('a step without a checkpoint makes checkout, fork and rewind past it fail naming the step and the reason', async () => {
    h.model.enqueue(respond(shellCall(['bash', '-lc', 'head -c 5000 /dev/zero > big.bin'])), respond(assistantMessage('ok')));
    const cwd = await mkdtemp(path.join(scratch, 'big-ws-'));
    const big = await h.runThread('make a big file', { cwd, checkpoints: { enabled: true, maxBytes: 4096 } });
    await settled(h, big.threadId);
    const before = h.model.requests.length;
    const expected = `step 1.1 has no checkpoint (the workspace would need a snapshot of`;
    for (const args of [
      ['checkout', big.threadId, '--at', '1.2', '-C', path.join(scratch, 'never')],
      ['fork', big.threadId, '--at', '1.1', '--no-worker'],
      ['rewind', big.threadId, '--to', '1.1', '--no-worker'],
    ]) {
      const run = await runCli(args, env, h.workspace);
      expect(run.stderr).toContain(expected);
      expect(run.stderr).toContain('over the checkpoint size cap');
      expect(run.code).toBe(2);
    }
    expect(h.model.requests.length).toBe(before);
  });

  test('rewind restores the files of the step (later files removed, ignored ones kept) and the next turn starts from that transcript point', async () => {
    const ignored = { 'node_modules/dep/index.js': 'dep', 'scratch/t.txt': 'tmp\n', 'scratch/later.txt': 'later\n' };
    expect(await fileTree(h.workspace)).toEqual(await treeOf({ ...AFTER['1.3'], ...ignored }));
    const run = await runCli(['rewind', threadId, '--to', '1.1', '--no-worker'], env, h.workspace);
    expect(run.stderr).toContain(`rewound thread ${threadId} to step 1.1`);
    expect(run.code).toBe(0);
    expect(await fileTree(h.workspace)).toEqual(await treeOf({ ...AFTER['1.1'], ...ignored }));

    h.model.allowPrefixBreak(threadId);
    h.model.enqueue(respond(assistantMessage('back at 1.1')));
    const before = h.model.requests.length;
    const next = await h.runTurn(threadId, 'after the rewind');
    expect(next.result.status).toBe('completed');
    const input = h.model.requests[before].input;
    const outputs = input.filter((i) => i.type === 'function_call_output').map((i) => i.call_id);
    expect(outputs).toEqual([firstCall.call_id]);
    expect(JSON.stringify(input[input.length - 1])).toContain('after the rewind');
    expect(input.some((i) => i.call_id === patchCall.call_id)).toBe(false);

    const shown = await runCli(['show', threadId], env, h.workspace);
    expect(shown.stdout).toMatch(/── rewound to step 1\.1: workspace reset to checkpoint [0-9a-f]{12}; turn 2 continues from there/);
    // The files at the new turn's start are those of 1.1.
    const out = path.join(scratch, 'after-rewind');
    expect((await runCli(['checkout', threadId, '--at', '2.0', '-C', out], env, h.workspace)).code).toBe(0);
    expect(await fileTree(out)).toEqual(await treeOf(AFTER['1.1']));
    expect(await readFile(path.join(h.workspace, 'src/a.txt'), 'utf8')).toBe('one\n');
  });
});
