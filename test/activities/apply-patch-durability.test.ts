/**
 * apply_patch through the tool activity, when the worker dies mid-patch or the disk
 * refuses a write. The crash is the real thing minus the process: the first attempt is
 * frozen for good at an exact step (the tool's step hook never returns), so nothing after
 * that point runs, no rollback, no clean-up, no result, exactly as after a SIGKILL; the
 * retry is a new activity instance on the same store and workspace. The disk faults are
 * real: a small tmpfs that fills up, and a bind mount that refuses to be renamed.
 * test/workflows/patch-crash.test.ts kills a real worker process for the same scenario.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { callMarkerKey, createToolActivities } from '../../src/activities/tools';
import type { RunToolInput, RunToolResult } from '../../src/activities/types';
import { openFsStore, type TranscriptStore } from '../../src/store';
import { checkPatchApplication, leftoversUnder } from '../../src/tools/apply-patch/check';

const patch = (...body: string[]): string => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');
const bigLines = (n: number, tag: string): string[] => Array.from({ length: n }, (_, i) => `+${tag} line ${i} ${'x'.repeat(40)}`);

let root: string;
let store: TranscriptStore;
let callCounter = 0;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-patch-durability-'));
  store = openFsStore(path.join(root, 'home'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function seed(dir: string, files: Record<string, string>): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), text);
  }
}

/** Every file under `dir` with its content (mode bits too), to compare workspaces. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    const abs = path.join(entry.parentPath, entry.name);
    if (entry.isFile()) out[path.relative(dir, abs)] = `${(await fs.stat(abs)).mode.toString(8)} ${await fs.readFile(abs, 'utf8')}`;
    else if (entry.isDirectory()) out[path.relative(dir, abs)] = 'dir';
  }
  return out;
}

/** A stored apply_patch call and the activity input that runs it in `cwd`. */
async function callInput(patchText: string, cwd: string): Promise<RunToolInput> {
  const callId = `call_${++callCounter}`;
  const itemHash = await store.putItem({ type: 'function_call', call_id: callId, name: 'apply_patch', arguments: JSON.stringify({ input: patchText }) });
  const facts = { argv: null, knownSafe: false, escalate: false, justification: null, mutatesFiles: true };
  return {
    threadId: 'thread-durability',
    turn: 1,
    step: callCounter,
    call: { callId, name: 'apply_patch', itemHash, parallelSafe: false, summary: 'apply_patch', timeoutMs: 60_000, facts },
    cwd,
    shellTimeoutMs: 10_000,
    sandbox: null,
  };
}

/** The output text the model gets for a finished call. */
async function outputText(result: RunToolResult): Promise<string> {
  const item = await store.getItem(result.outputHash);
  return (item as { output: string }).output;
}

/** Every step the hook sees when `patchText` applies uninterrupted to a copy of `files`. */
async function stepsOf(patchText: string, files: Record<string, string>): Promise<string[]> {
  const scratch = path.join(root, `steps-${++callCounter}`);
  await seed(scratch, files);
  const steps: string[] = [];
  await createToolActivities({ env: {}, store, stepHook: (step) => Promise.resolve(void steps.push(step)) }).runTool(await callInput(patchText, scratch));
  return steps;
}

/**
 * Runs the call and freezes it for good when it reaches `step`, as a SIGKILL there would:
 * nothing after the step runs. Fails if the attempt finishes without reaching it.
 */
async function crashAt(step: string, input: RunToolInput): Promise<void> {
  let reached!: () => void;
  const paused = new Promise<void>((resolve) => (reached = resolve));
  const hook = (s: string): Promise<void> => {
    if (s !== step) return Promise.resolve();
    reached();
    return new Promise<void>(() => undefined);
  };
  const attempt = createToolActivities({ env: {}, store, stepHook: hook }).runTool(input);
  await Promise.race([paused, attempt.then(() => Promise.reject(new Error(`the attempt finished without reaching ${step}`)))]);
}

/** One attempt of the activity; as a retry, the fresh instance Temporal would run on the same store and input. */
const runCall = (input: RunToolInput): Promise<RunToolResult> => createToolActivities({ store, env: {} }).runTool(input);
const retry = runCall;

interface Shape {
  readonly files: Record<string, string>;
  readonly patch: string;
}

/** One patch per hunk shape, each with a second file so a crash can land between files. */
const SHAPES: Record<string, Shape> = {
  'an append (a header-less @@ with only + lines) and a large Add File': {
    files: { 'log.txt': 'first\n' },
    patch: patch('*** Update File: log.txt', '@@', '+second', '+third', '*** Add File: big.txt', ...bigLines(2000, 'big')),
  },
  'an insertion at the end of the file and an Add File': {
    files: { 'list.txt': 'a\nb\n' },
    patch: patch('*** Update File: list.txt', '@@', ' b', '+c', '*** End of File', '*** Add File: notes.txt', '+n'),
  },
  'a pure deletion hunk that would remove another line if repeated': {
    files: { 'd.txt': 'x\nx\ny\n', 'e.txt': 'e\n' },
    patch: patch('*** Update File: d.txt', '@@', '-x', '*** Update File: e.txt', '@@', '+f'),
  },
  'a move with an append, into a new directory': {
    files: { 'src/old.ts': 'export const a = 1;\n', 'index.ts': 'main();\n' },
    patch: patch('*** Update File: src/old.ts', '*** Move to: lib/deep/new.ts', '@@', '+// moved', '*** Update File: index.ts', '@@', '+main();'),
  },
  'two Add Files, one over an existing file': {
    files: { 'a.txt': 'old a\n' },
    patch: patch('*** Add File: a.txt', '+new a', '*** Add File: b/b.txt', ...bigLines(500, 'b')),
  },
  'a Delete File and an append': {
    files: { 'gone.txt': 'bye\n', 'keep.txt': 'keep\n' },
    patch: patch('*** Delete File: gone.txt', '*** Update File: keep.txt', '@@', '+kept'),
  },
};

describe('apply_patch retried after its worker died mid-patch', () => {
  const cases: Array<[string, 'first staged' | 'first committed' | 'last committed']> = [];
  for (const name of Object.keys(SHAPES)) for (const point of ['first staged', 'first committed', 'last committed'] as const) cases.push([name, point]);

  it.each(cases)('%s: a retry after a crash at the %s file applies the patch exactly once and answers as a first run would', async (name, point) => {
    const shape = SHAPES[name];
    const before = path.join(root, 'before');
    const reference = path.join(root, 'reference');
    const workspace = path.join(root, 'ws');
    await seed(before, shape.files);
    await seed(reference, shape.files);
    await seed(workspace, shape.files);
    const firstRun = await runCall(await callInput(shape.patch, reference));

    const steps = await stepsOf(shape.patch, shape.files);
    const staged = steps.filter((s) => s.startsWith('apply_patch:staged:'));
    const committed = steps.filter((s) => s.startsWith('apply_patch:committed:'));
    const step = point === 'first staged' ? staged[0] : point === 'first committed' ? committed[0] : committed[committed.length - 1];
    const input = await callInput(shape.patch, workspace);
    await crashAt(step, input);

    const result = await retry(input);
    expect({ success: result.success, output: await outputText(result) }).toEqual({ success: true, output: await outputText(firstRun) });
    expect([firstRun.metadata.resumed, result.metadata.resumed]).toEqual([undefined, true]);
    expect(await checkPatchApplication(shape.patch, before, workspace)).toEqual({ verdict: 'once', paths: expect.any(Object), leftovers: [] });
    expect(await snapshot(workspace)).toEqual(await snapshot(reference));
  });

  it('records the journal before it touches the workspace', async () => {
    const workspace = path.join(root, 'ws');
    await seed(workspace, SHAPES['a Delete File and an append'].files);
    const before = await snapshot(workspace);
    const input = await callInput(SHAPES['a Delete File and an append'].patch, workspace);
    let journalAtFirstStep: string | undefined;
    let workspaceAtFirstStep: Record<string, string> | undefined;
    const hook = async (step: string): Promise<void> => {
      if (journalAtFirstStep !== undefined) return;
      journalAtFirstStep = await store.getMarker(`${callMarkerKey(input, input.call.callId)}.journal`);
      workspaceAtFirstStep = await snapshot(workspace);
      expect(step).toBe('apply_patch:staged:keep.txt');
    };
    await createToolActivities({ env: {}, store, stepHook: hook }).runTool(input);
    expect(JSON.parse(journalAtFirstStep ?? 'null')).toEqual({
      version: 1,
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      changes: [{ kind: 'D', path: 'gone.txt' }, { kind: 'M', path: 'keep.txt' }],
      files: [
        { path: 'gone.txt', before: expect.stringMatching(/^[0-9a-f]{64}$/), after: null },
        { path: 'keep.txt', before: expect.stringMatching(/^[0-9a-f]{64}$/), after: expect.stringMatching(/^[0-9a-f]{64}$/) },
      ],
      dirs: [],
    });
    // Only the staged temporary exists by then; no target has changed.
    const { [Object.keys(workspaceAtFirstStep!).find((k) => k.endsWith('.tmp'))!]: staged, ...targets } = workspaceAtFirstStep!;
    expect(staged).toBe('100644 keep\nkept\n');
    expect(targets).toEqual(before);
  });

  it('reports a file changed by something else since the crash as a conflict and applies nothing more', async () => {
    const shape = SHAPES['an append (a header-less @@ with only + lines) and a large Add File'];
    const workspace = path.join(root, 'ws');
    await seed(workspace, shape.files);
    const input = await callInput(shape.patch, workspace);
    await crashAt('apply_patch:committed:log.txt', input);
    await fs.writeFile(path.join(workspace, 'log.txt'), 'rewritten by the user\n');

    const result = await retry(input);
    expect({ success: result.success, output: await outputText(result) }).toEqual({
      success: false,
      output:
        'apply_patch could not finish this patch: the worker applying it stopped part-way, and when the call was retried some files held ' +
        'neither their content from before the patch nor the patched content. Nothing was applied again. ' +
        "Already patched: none. Not patched: 'big.txt'. Changed by something else: 'log.txt'. " +
        'Re-read these files and send a new patch for whatever is still needed.',
    });
    expect(await snapshot(workspace)).toEqual({ 'log.txt': '100644 rewritten by the user\n' });
  });

  it('reports new content lost since the crash instead of planning a half-applied patch again', async () => {
    const shape = SHAPES['an append (a header-less @@ with only + lines) and a large Add File'];
    const workspace = path.join(root, 'ws');
    await seed(workspace, shape.files);
    const input = await callInput(shape.patch, workspace);
    await crashAt('apply_patch:committed:log.txt', input);
    for (const leftover of await leftoversUnder(workspace)) await fs.rm(path.join(workspace, leftover));

    const result = await retry(input);
    expect(result.success).toBe(false);
    expect(await outputText(result)).toBe(
      "apply_patch could not finish this patch after its worker stopped part-way: the new content of 'big.txt' staged by the interrupted attempt is gone. " +
        "Nothing was applied again. Already patched: 'log.txt'. Not patched: 'big.txt'. Changed by something else: none. " +
        'Re-read these files and send a new patch for whatever is still needed.',
    );
    expect(await snapshot(workspace)).toEqual({ 'log.txt': '100644 first\nsecond\nthird\n' });
  });

  it('refuses to resume from a corrupted journal and applies nothing more', async () => {
    const shape = SHAPES['a Delete File and an append'];
    const workspace = path.join(root, 'ws');
    await seed(workspace, shape.files);
    const input = await callInput(shape.patch, workspace);
    await crashAt('apply_patch:committed:gone.txt', input);
    await store.putMarker(`${callMarkerKey(input, input.call.callId)}.journal`, '{"version": 1, "id": "zz"');
    const state = await snapshot(workspace);

    const result = await retry(input);
    expect(result.success).toBe(false);
    expect(await outputText(result)).toMatch(/^apply_patch could not resume this call after its worker stopped: the journal is not JSON \(.+\)\. Nothing was applied by the retry;/);
    expect(await snapshot(workspace)).toEqual(state);
  });

  it('answers a retry of a finished call with its recorded result and touches nothing', async () => {
    const shape = SHAPES['an append (a header-less @@ with only + lines) and a large Add File'];
    const workspace = path.join(root, 'ws');
    await seed(workspace, shape.files);
    const input = await callInput(shape.patch, workspace);
    const first = await runCall(input);
    const after = await snapshot(workspace);
    expect(await retry(input)).toEqual(first);
    expect(await snapshot(workspace)).toEqual(after);
  });
});

describe('apply_patch on a disk that refuses a write', () => {
  let disk: string;

  beforeAll(async () => {
    disk = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-patch-tmpfs-'));
    // A real, small file system: 64 KiB fills up part-way through a patch.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
  });
  afterAll(async () => {
    execFileSync('umount', [disk]);
    await fs.rm(disk, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const entry of await fs.readdir(disk)) await fs.rm(path.join(disk, entry), { recursive: true, force: true });
  });

  it('changes nothing and names the full disk when the disk fills up mid-patch', async () => {
    await seed(disk, { 'notes.txt': 'notes\n', 'old.txt': 'old\n' });
    const before = await snapshot(disk);
    const text = patch('*** Update File: notes.txt', '@@', '+more', '*** Delete File: old.txt', '*** Add File: data/deep/big.txt', ...bigLines(2000, 'big'));

    const result = await runCall(await callInput(text, disk));
    expect(await snapshot(disk)).toEqual(before);
    expect({ success: result.success, output: await outputText(result) }).toEqual({
      success: false,
      output:
        "apply_patch failed while writing files: no space left on device (ENOSPC) while writing 'data/deep/big.txt'. " +
        'No file was changed; free some space, then send the patch again if it is still needed.',
    });
  });

  it('puts back the files it already replaced when a later rename is refused', async () => {
    const workspace = path.join(root, 'ws');
    await seed(workspace, { 'a.txt': 'a\n', 'mounted.txt': 'mount point\n', 'source.txt': 'mounted content\n' });
    // A bind-mounted file cannot be renamed (EBUSY): the delete fails after a.txt was replaced.
    execFileSync('mount', ['--bind', path.join(workspace, 'source.txt'), path.join(workspace, 'mounted.txt')]);
    try {
      const before = await snapshot(workspace);
      const text = patch('*** Update File: a.txt', '@@', '+b', '*** Add File: new/c.txt', '+c', '*** Delete File: mounted.txt');
      const steps: string[] = [];
      const result = await createToolActivities({ env: {}, store, stepHook: (s) => Promise.resolve(void steps.push(s)) }).runTool(await callInput(text, workspace));
      expect(await snapshot(workspace)).toEqual(before);
      expect(steps).toEqual(['apply_patch:staged:a.txt', 'apply_patch:staged:new/c.txt', 'apply_patch:committed:a.txt', 'apply_patch:committed:new/c.txt']);
      expect({ success: result.success, output: await outputText(result) }).toEqual({
        success: false,
        output:
          "apply_patch failed while writing files: device or resource busy (the path may be a mount point) (EBUSY) while deleting 'mounted.txt'. " +
          'No file was changed; fix the cause, then send the patch again if it is still needed.',
      });
    } finally {
      execFileSync('umount', [path.join(workspace, 'mounted.txt')]);
    }
  });
});
