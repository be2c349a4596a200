/**
 * `watchTurn` (what `exec` and `resume` print) never reports a turn as a plain success
 * when it could not read what the turn recorded: store objects the client reads are
 * deleted or corrupted on disk (a real file store, a real turn on the dev server), and
 * the watch names the object, still prints the turn's end, and throws
 * {@link TurnNotReadableError} (the CLI exits 1).
 */
import { rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { HumanOutput } from '../../src/client/human-output';
import { TurnNotReadableError, watchTurn } from '../../src/client/run-turn';
import { openFsStore } from '../../src/store';
import { turnWorkflowId } from '../../src/shared/ids';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, respond } from '../support/responses-builders';

function objectFile(home: string, hash: string): string {
  return path.join(home, 'store', 'objects', hash.slice(0, 2), hash.slice(2));
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('watching a turn whose objects cannot be read', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  test.each<[string, (file: string) => Promise<void>, RegExp]>([
    ['deleted', (file) => rm(file), /item ([0-9a-f]{64}) is not in the transcript store/],
    ['corrupted', (file) => writeFile(file, '{"type":"message","role":"assistant","content":"not what was stored"}'), /item ([0-9a-f]{64}) is corrupt: content does not match its hash/],
  ])('an answer whose store object was %s is named, and the watch fails instead of succeeding silently', async (_how, damage, problem) => {
    h.model.enqueue(respond(assistantMessage('the answer')));
    const { threadId, result } = await h.runThread('a question');
    expect(result.status).toBe('completed');
    await damage(objectFile(h.home, result.lastMessage!.hash));

    const err = capture();
    const out = capture();
    const view = new HumanOutput({ err: err.stream, out: out.stream, color: false });
    // A fresh store, as a new CLI process would open it (no cache of what the worker wrote).
    const watched = await watchTurn(h.client, openFsStore(h.home), turnWorkflowId(threadId, 1), { kind: 'human', view }).then(() => null, (e: unknown) => e);

    expect(watched).toBeInstanceOf(TurnNotReadableError);
    const message = (watched as Error).message;
    expect(message).toMatch(new RegExp(`^turn ${threadId}/turn-1 ended \\(completed\\), but part of it could not be read, so what was shown is incomplete: cannot read the message of step 1: `));
    expect(message).toMatch(problem);
    expect(problem.exec(message)![1]).toBe(result.lastMessage!.hash);
    expect(err.text()).toMatch(problem);
    expect(out.text()).toBe('');
  });
});
