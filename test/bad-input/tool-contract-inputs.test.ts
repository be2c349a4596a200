/**
 * Hostile inputs to the tools of the tool contract: view_image paths that are no image
 * file (a directory, a device, a huge file, a symlink loop, a path outside the
 * workspace that does not exist) get a clear message for the model and store nothing.
 */
import { mkdtemp, mkdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MAX_IMAGE_BYTES, viewImageTool } from '../../src/tools/view-image';
import type { ToolContext } from '../../src/tools/types';

let ws: string;
let stored: Buffer[];
const ctx = (): ToolContext => ({ cwd: ws, signal: new AbortController().signal, heartbeat: () => undefined, callId: 'c1', putBlob: (data) => (stored.push(data), Promise.resolve('b'.repeat(64))) });

beforeEach(async () => {
  ws = await mkdtemp(path.join(os.tmpdir(), 'unroll-view-image-'));
  stored = [];
});
afterEach(async () => {
  await rm(ws, { recursive: true, force: true });
});

describe('view_image refuses what is no image, clearly', () => {
  test('a directory', async () => {
    await mkdir(path.join(ws, 'pics'));
    expect((await viewImageTool.run({ path: 'pics' }, ctx())).output).toBe(`unable to locate image at \`${path.join(ws, 'pics')}\`: not a file`);
  });

  test('a device that never ends', async () => {
    expect((await viewImageTool.run({ path: '/dev/zero' }, ctx())).output).toBe('unable to locate image at `/dev/zero`: not a file');
  });

  test('a file over the size limit is not read', async () => {
    await writeFile(path.join(ws, 'huge.png'), '');
    await truncate(path.join(ws, 'huge.png'), MAX_IMAGE_BYTES + 1);
    const result = await viewImageTool.run({ path: 'huge.png' }, ctx());
    expect(result).toMatchObject({ success: false, output: `unable to process image: ${MAX_IMAGE_BYTES + 1} bytes is over the ${MAX_IMAGE_BYTES}-byte limit for one image` });
  });

  test('a symlink loop', async () => {
    await symlink('b.png', path.join(ws, 'a.png'));
    await symlink('a.png', path.join(ws, 'b.png'));
    const result = await viewImageTool.run({ path: 'a.png' }, ctx());
    expect(result.success).toBe(false);
    expect(result.output).toMatch(/^unable to locate image at `.*a\.png`: ELOOP/);
  });

  test('an empty file and a text file that claims to be a PNG', async () => {
    await writeFile(path.join(ws, 'empty.png'), '');
    await writeFile(path.join(ws, 'fake.png'), 'PNG but not really');
    for (const p of ['empty.png', 'fake.png']) {
      expect(await viewImageTool.run({ path: p }, ctx())).toEqual({ output: 'unable to process image: invalid or unsupported image data', success: false, metadata: { error: 'unable to process image: invalid or unsupported image data' } });
    }
    expect(stored).toEqual([]);
  });
});
