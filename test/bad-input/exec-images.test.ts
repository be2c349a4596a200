/**
 * Bad `-i/--image` files for `unroll exec` and `exec resume`: a missing file, a
 * directory, a file that is no image, one over the 20 MiB limit for one image. Each is
 * refused before anything is contacted: one line on stderr that names the file and what
 * is wrong, exit 2, no request to the model, no thread. (Codex 0.171 sends the model a
 * note instead and exits 0: the user never learns the image did not go.) `exec fork -i`
 * is refused by name. Runs the compiled CLI (`npm run build` first).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { MAX_IMAGE_BYTES } from '../../src/tools/view-image';
import { runCli, startCliFixture, type CliFixture } from '../e2e/run-cli';

jest.setTimeout(120_000);

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('exec -i with files that cannot be sent', () => {
  let fixture: CliFixture;
  beforeAll(async () => {
    fixture = await startCliFixture('bad-images');
    await writeFile(path.join(fixture.workspace, 'notes.png'), 'not an image at all\n');
    await mkdir(path.join(fixture.workspace, 'shots.png'));
    // A PNG signature, then one byte more than the limit allows.
    await writeFile(path.join(fixture.workspace, 'huge.png'), Buffer.concat([PNG_MAGIC, Buffer.alloc(MAX_IMAGE_BYTES + 1 - PNG_MAGIC.length)]));
    await writeFile(path.join(fixture.workspace, 'ok.png'), Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==', 'base64'));
  });
  afterAll(async () => {
    await fixture.close();
  });

  test.each([
    ['a missing file', ['missing.png'], '-i/--image missing.png: no such file'],
    ['a directory', ['shots.png'], '-i/--image shots.png: not a file'],
    ['a file that is no image', ['notes.png'], '-i/--image notes.png: not an image the model can take (PNG, JPEG, GIF or WebP)'],
    ['an image over 20 MiB', ['huge.png'], '-i/--image huge.png: 20971521 bytes, over the limit for one image (20 MiB, 20971520 bytes)'],
    ['a bad one after a good one, comma-separated', ['ok.png,missing.png'], '-i/--image missing.png: no such file'],
  ])('exec refuses %s by name, exit 2, before anything is sent', async (_name, images, message) => {
    const before = fixture.model.requests.length;
    const run = await runCli(['exec', '--json', ...images.flatMap((i) => ['-i', i]), '--', 'look'], fixture.env, fixture.workspace);
    expect({ code: run.code, stdout: run.stdout, stderr: run.stderr }).toEqual({ code: 2, stdout: '', stderr: `unroll: ${message}\n` });
    expect(fixture.model.requests.length).toBe(before);
  });

  test('exec resume refuses a missing image the same way, before it contacts the thread', async () => {
    const run = await runCli(['exec', 'resume', 'th-20261201T000000-00000000', '-i', 'missing.png', '--', 'look'], fixture.env, fixture.workspace);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 2, stderr: 'unroll: -i/--image missing.png: no such file\n' });
  });

  test('exec fork -i is refused by name rather than ignored', async () => {
    const run = await runCli(['exec', 'fork', 'th-20261201T000000-00000000', '-i', 'ok.png', '--', 'look'], fixture.env, fixture.workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^unroll: -i\/--image is not supported by exec fork yet/);
  });
});
