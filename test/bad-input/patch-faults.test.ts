/**
 * Patches that meet a disk that refuses them, through the whole loop: the workspace is a
 * real 64 KiB tmpfs, so a large patch fills it part-way; a bind-mounted file cannot be
 * renamed away. Each patch is applied whole or not at all: the model gets an output that
 * names the disk problem, the workspace is exactly as before (no half-written file, no
 * temporary, no new directory), and the turn goes on. Crashes mid-patch are covered by
 * test/activities/apply-patch-durability.test.ts and test/workflows/patch-crash.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { leftoversUnder } from '../../src/tools/apply-patch/check';
import { startHarness, type Harness } from '../support/harness';
import { applyPatchCall, assistantMessage, respond } from '../support/responses-builders';

const patch = (...body: string[]): string => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');
const lines = (n: number, tag: string): string[] => Array.from({ length: n }, (_, i) => `+${tag} ${i} ${'z'.repeat(50)}`);

/** Every entry under `dir` with its content, to prove that nothing changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    const abs = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, abs)] = entry.isFile() ? await fs.readFile(abs, 'utf8') : 'dir';
  }
  return out;
}

describe('patches the workspace disk refuses', () => {
  let h: Harness;
  let disk: string;

  beforeAll(async () => {
    h = await startHarness();
    disk = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-patch-faults-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
  });
  afterAll(async () => {
    await h.close();
    execFileSync('umount', [disk]);
    await fs.rm(disk, { recursive: true, force: true });
  });
  beforeEach(async () => {
    for (const entry of await fs.readdir(disk)) await fs.rm(path.join(disk, entry), { recursive: true, force: true });
    await fs.writeFile(path.join(disk, 'notes.txt'), 'notes\n');
    await fs.writeFile(path.join(disk, 'old.txt'), 'old\n');
  });
  afterEach(() => {
    h.model.assertProtocol();
  });

  /** Runs one turn in which the model sends `text` as an apply_patch call; returns the output it got. */
  async function sendPatch(text: string): Promise<{ output: string; status: string }> {
    const first = h.model.requests.length;
    const call = applyPatchCall(text);
    h.model.enqueue(respond(call), respond(assistantMessage('understood')));
    const { result } = await h.runThread('patch the workspace', { cwd: disk });
    const outputs = h.model.requests[first + 1].input.filter((i) => i.type === 'function_call_output' && i.call_id === call.call_id);
    expect(outputs).toHaveLength(1);
    return { output: String(outputs[0].output), status: result.status };
  }

  test('a multi-file patch larger than the free space is refused whole with a message naming the full disk', async () => {
    const before = await snapshot(disk);
    const { output, status } = await sendPatch(
      patch('*** Update File: notes.txt', '@@', '+appended', '*** Delete File: old.txt', '*** Add File: out/deep/big.txt', ...lines(3000, 'big')),
    );
    expect(status).toBe('completed');
    expect(output).toBe(
      "apply_patch failed while writing files: no space left on device (ENOSPC) while writing 'out/deep/big.txt'. " +
        'No file was changed; free some space, then send the patch again if it is still needed.',
    );
    expect(await snapshot(disk)).toEqual(before);
  });

  test('many small new files that only together overflow the disk are all taken back', async () => {
    const before = await snapshot(disk);
    const adds = Array.from({ length: 40 }, (_, i) => [`*** Add File: many/file-${i}.txt`, ...lines(30, `f${i}`)]).flat();
    const { output } = await sendPatch(patch('*** Update File: notes.txt', '@@', '+appended', ...adds));
    expect(output).toMatch(/^apply_patch failed while writing files: no space left on device \(ENOSPC\) while writing 'many\/file-\d+\.txt'\. No file was changed;/);
    expect(await snapshot(disk)).toEqual(before);
  });

  test('a delete of a mount point, refused after an earlier file was replaced, puts that file back', async () => {
    await fs.writeFile(path.join(disk, 'mounted.txt'), 'mount point\n');
    await fs.writeFile(path.join(disk, 'source.txt'), 'mounted content\n');
    execFileSync('mount', ['--bind', path.join(disk, 'source.txt'), path.join(disk, 'mounted.txt')]);
    try {
      const before = await snapshot(disk);
      const { output } = await sendPatch(patch('*** Update File: notes.txt', '@@', '+appended', '*** Delete File: mounted.txt'));
      expect(output).toBe(
        "apply_patch failed while writing files: device or resource busy (the path may be a mount point) (EBUSY) while deleting 'mounted.txt'. " +
          'No file was changed; fix the cause, then send the patch again if it is still needed.',
      );
      expect(await snapshot(disk)).toEqual(before);
    } finally {
      execFileSync('umount', [path.join(disk, 'mounted.txt')]);
    }
  });

  test("a file named like apply_patch's own temporaries is written like any other", async () => {
    const name = '.unroll-patch-0123456789abcdef-0.tmp';
    const { output } = await sendPatch(patch(`*** Add File: ${name}`, '+mine', '*** Update File: notes.txt', '@@', '+more'));
    expect(output).toBe(`Success. Updated the following files:\nA ${name}\nM notes.txt`);
    expect(await snapshot(disk)).toEqual({ [name]: 'mine\n', 'notes.txt': 'notes\nmore\n', 'old.txt': 'old\n' });
    expect(await leftoversUnder(disk)).toEqual([name]);
  });

  test('a patch that adds, changes and deletes the same file reports all three and leaves no trace', async () => {
    const before = await snapshot(disk);
    const { output } = await sendPatch(patch('*** Add File: brief.txt', '+a', '*** Update File: brief.txt', '@@', '+b', '*** Delete File: brief.txt'));
    expect(output).toBe('Success. Updated the following files:\nA brief.txt\nM brief.txt\nD brief.txt');
    expect(await snapshot(disk)).toEqual(before);
  });
});
