/**
 * The session's rewind, against the real dev server: refused while a turn runs (nothing
 * is reset), and a reset that never follows a symlink the agent left in the workspace
 * out of it.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildThreadRun } from '../../src/history/build-run';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { interruptTurn } from '../../src/client/intervene';
import { RequestRefusedError } from '../../src/client/request-errors';
import { rewindThread } from '../../src/client/rewind';
import { submitTurn } from '../../src/client/threads';
import { settled } from '../replay/corpus-scenarios';
import { fileTree, writeFiles } from '../support/file-trees';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, hang, respond, shellCall } from '../support/responses-builders';

jest.setTimeout(120_000);

describe('rewind in the session workflow', () => {
  let h: Harness;
  let outside: string;
  beforeAll(async () => {
    h = await startHarness();
    outside = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-outside-'));
  });
  afterAll(async () => {
    await h.close();
    await fs.rm(outside, { recursive: true, force: true });
  });

  test('a rewind is refused while a turn runs, and the workspace is left alone', async () => {
    h.model.enqueue(respond(shellCall(['bash', '-lc', 'echo v1 > f.txt'])), respond(assistantMessage('ok')));
    const { threadId } = await h.runThread('write f');
    await settled(h, threadId);
    await fs.writeFile(path.join(h.workspace, 'f.txt'), 'v2\n');
    h.model.enqueue(hang());
    await submitTurn(h.client, threadId, 'hang now');
    const histories = await fetchThreadHistories(h.client, threadId);
    await expect(rewindThread(h.client, h.store, histories, '1.1')).rejects.toThrow(RequestRefusedError);
    await expect(rewindThread(h.client, h.store, histories, '1.1')).rejects.toThrow(/turn 2 is running: wait for it to end \(or interrupt it\) before rewinding/);
    expect(await fs.readFile(path.join(h.workspace, 'f.txt'), 'utf8')).toBe('v2\n');
    await interruptTurn(h.client, threadId);
    await settled(h, threadId);
  });

  test('a rewind replaces a symlink found where a directory was, and writes nothing through it', async () => {
    const ws = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-rewind-ws-'));
    await writeFiles(ws, { 'keep.md': 'k\n' });
    h.model.enqueue(
      respond(shellCall(['bash', '-lc', 'mkdir -p src && echo one > src/a.txt'])),
      respond(shellCall(['bash', '-lc', 'echo x > other.txt'])),
      respond(assistantMessage('ok')),
    );
    const { threadId } = await h.runThread('links', { cwd: ws });
    await settled(h, threadId);
    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    expect(run.turns[0].steps[1].checkpoint).toMatchObject({ status: 'created' });
    // Someone swaps the directory for a link out of the workspace.
    await fs.rm(path.join(ws, 'src'), { recursive: true });
    await fs.symlink(outside, path.join(ws, 'src'));
    const done = await rewindThread(h.client, h.store, await fetchThreadHistories(h.client, threadId), '1.1');
    expect(done).toMatchObject({ to: '1.1', nextTurn: 2, files: 2 });
    expect(await fileTree(outside)).toEqual({});
    expect((await fs.lstat(path.join(ws, 'src'))).isDirectory()).toBe(true);
    expect(await fileTree(ws)).toEqual({ 'keep.md': expect.objectContaining({ kind: 'file' }), 'src/a.txt': expect.objectContaining({ kind: 'file' }) });
    expect(await fs.readFile(path.join(ws, 'src', 'a.txt'), 'utf8')).toBe('one\n');
    await fs.rm(ws, { recursive: true, force: true });
  });
});
