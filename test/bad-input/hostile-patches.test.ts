/**
 * Patches a model should not send, through the whole loop: paths that leave the
 * workspace (`..`, absolute, through symlinks), binary files, huge hunks. Each patch is
 * refused as a whole with a message for the model; nothing is written inside or outside
 * the workspace, no temporary file is left behind, and the turn goes on. The unit-level
 * rules live in test/activities/apply-patch.test.ts; this checks what the model is told
 * and what the disk looks like afterwards.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyPatchTool } from '../../src/tools/apply-patch';
import { startHarness, type Harness } from '../support/harness';
import type { RecordedRequest } from '../support/responses-server';
import { applyPatchCall, assistantMessage, respond } from '../support/responses-builders';

const patch = (...body: string[]): string => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

/** Every entry under `dir` (symlinks not followed) with its content, to prove nothing changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    const abs = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, abs);
    if (entry.isSymbolicLink()) out[rel] = `-> ${await fs.readlink(abs)}`;
    else if (entry.isFile()) out[rel] = (await fs.readFile(abs)).toString('base64');
    else out[rel] = 'dir';
  }
  return out;
}

describe('hostile and oversized patches in the agent loop', () => {
  let h: Harness;
  let outside: string;
  let firstRequest: number;
  const ws = (rel: string): string => path.join(h.workspace, rel);

  beforeAll(async () => {
    h = await startHarness();
    outside = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-outside-'));
  });
  afterAll(async () => {
    await h.close();
    await fs.rm(outside, { recursive: true, force: true });
  });
  beforeEach(() => {
    firstRequest = h.model.requests.length;
  });
  afterEach(() => {
    h.model.assertProtocol();
  });

  /** The output the model was sent for `callId` in the request after the patches. */
  const outputFor = (callId: string): string => {
    const request: RecordedRequest = h.model.requests[firstRequest + 1];
    const found = request.input.filter((i) => i.type === 'function_call_output' && i.call_id === callId);
    expect(found).toHaveLength(1);
    return String(found[0].output);
  };

  test('patches that climb out, use absolute paths or go through symlinks are refused whole and touch nothing', async () => {
    await fs.writeFile(path.join(outside, 'secret.txt'), 'secret\n');
    await fs.writeFile(ws('inside.txt'), 'inside\n');
    await fs.symlink(outside, ws('link'));
    await fs.symlink(path.join(outside, 'secret.txt'), ws('filelink'));
    const calls = {
      climb: applyPatchCall(patch('*** Add File: ../escape.txt', '+pwned')),
      deepClimb: applyPatchCall(patch('*** Add File: a/b/../../../escape.txt', '+pwned')),
      absolute: applyPatchCall(patch(`*** Add File: ${path.join(outside, 'abs.txt')}`, '+pwned')),
      throughDirLink: applyPatchCall(patch('*** Update File: link/secret.txt', '@@', '-secret', '+pwned')),
      throughFileLink: applyPatchCall(patch('*** Update File: filelink', '@@', '-secret', '+pwned')),
      deleteThroughLink: applyPatchCall(patch('*** Delete File: link/secret.txt')),
      moveOut: applyPatchCall(patch('*** Update File: inside.txt', '*** Move to: ../moved.txt', '@@', '-inside', '+moved')),
      mixed: applyPatchCall(patch('*** Add File: innocent.txt', '+fine', '*** Add File: link/planted.txt', '+pwned')),
    };
    const before = { workspace: await snapshot(h.workspace), outside: await snapshot(outside), parent: await fs.readdir(path.dirname(h.workspace)) };
    h.model.enqueue(respond(Object.values(calls)), respond(assistantMessage('I will stay inside')));
    const { result } = await h.runThread('try to escape');

    expect(result.status).toBe('completed');
    expect(outputFor(calls.climb.call_id)).toBe("apply_patch verification failed: path '../escape.txt' resolves outside the workspace");
    expect(outputFor(calls.deepClimb.call_id)).toBe("apply_patch verification failed: path 'a/b/../../../escape.txt' resolves outside the workspace");
    expect(outputFor(calls.absolute.call_id)).toMatch(/^apply_patch verification failed: absolute paths are not allowed: /);
    expect(outputFor(calls.throughDirLink.call_id)).toBe("apply_patch verification failed: path 'link/secret.txt' goes through a symlink that points outside the workspace");
    expect(outputFor(calls.throughFileLink.call_id)).toBe("apply_patch verification failed: path 'filelink' goes through a symlink that points outside the workspace");
    expect(outputFor(calls.deleteThroughLink.call_id)).toBe("apply_patch verification failed: path 'link/secret.txt' goes through a symlink that points outside the workspace");
    expect(outputFor(calls.moveOut.call_id)).toBe("apply_patch verification failed: path '../moved.txt' resolves outside the workspace");
    expect(outputFor(calls.mixed.call_id)).toBe("apply_patch verification failed: path 'link/planted.txt' goes through a symlink that points outside the workspace");
    expect(await snapshot(h.workspace)).toEqual(before.workspace);
    expect(await snapshot(outside)).toEqual(before.outside);
    expect(await fs.readdir(path.dirname(h.workspace))).toEqual(expect.arrayContaining(before.parent));
    await expect(fs.access(path.join(path.dirname(h.workspace), 'escape.txt'))).rejects.toThrow();
  });

  test('a patch that edits a binary file is refused and the file keeps every byte', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xfe]);
    await fs.writeFile(ws('image.png'), bytes);
    const edit = applyPatchCall(patch('*** Update File: image.png', '@@', '-\u0089PNG', '+\u0089PNG edited'));
    h.model.enqueue(respond(edit), respond(assistantMessage('left the image alone')));
    const { result } = await h.runThread('edit the image');

    expect(result.status).toBe('completed');
    expect(outputFor(edit.call_id)).toBe("apply_patch verification failed: refusing to update 'image.png': it is a binary file (contains NUL bytes)");
    expect(await fs.readFile(ws('image.png'))).toEqual(bytes);
  });

  test('a huge hunk that does not match gets a short error, and a huge new file is written whole', async () => {
    await fs.writeFile(ws('small.txt'), 'one\ntwo\n');
    const hugeMiss = applyPatchCall(patch('*** Update File: small.txt', '@@', ...Array.from({ length: 20_000 }, (_, i) => `-missing line ${i}`), '+replacement'));
    const bigLines = Array.from({ length: 20_000 }, (_, i) => `generated line ${i} ${'x'.repeat(20)}`);
    const hugeAdd = applyPatchCall(patch('*** Add File: big/generated.txt', ...bigLines.map((l) => `+${l}`)));
    h.model.enqueue(respond(hugeMiss), respond(hugeAdd), respond(assistantMessage('done with big patches')));
    // A window large enough that a megabyte of patches does not set off auto-compaction.
    const context = { ...h.settings().context, windowTokens: 10_000_000, autoCompactTokens: 9_000_000 };
    const { result } = await h.runThread('send big patches', { context });

    expect(result.status).toBe('completed');
    const miss = outputFor(hugeMiss.call_id);
    expect(miss).toMatch(/^apply_patch verification failed: could not find the expected lines of hunk 1 of 1/);
    expect(miss).toContain('missing line 19\n[... 19980 more expected lines not shown]');
    expect(miss.length).toBeLessThan(4_000);
    expect(await fs.readFile(ws('small.txt'), 'utf8')).toBe('one\ntwo\n');
    expect(await fs.readFile(ws('big/generated.txt'), 'utf8')).toBe(`${bigLines.join('\n')}\n`);
    const addOutput = h.model.requests[firstRequest + 2].input.find((i) => i.type === 'function_call_output' && i.call_id === hugeAdd.call_id);
    expect(addOutput?.output).toBe('Success. Updated the following files:\nA big/generated.txt');
    expect((await fs.readdir(ws('big'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('apply_patch without a workspace', () => {
  test('a patch for a workspace directory that does not exist is refused with a message instead of failing the activity', async () => {
    const gone = path.join(os.tmpdir(), `unroll-no-such-workspace-${process.pid}`);
    const result = await applyPatchTool.run(
      { input: patch('*** Add File: a.txt', '+a') },
      { cwd: gone, signal: new AbortController().signal, heartbeat: () => undefined, callId: 'call_gone' },
    );
    expect(result).toEqual({
      success: false,
      output: `apply_patch verification failed: the workspace '${gone}' does not exist (ENOENT)`,
      metadata: { error: result.output },
    });
    await expect(fs.access(gone)).rejects.toThrow();
  });
});
