/**
 * The submit update's `item` (the hash of a user message the client stored, as `exec -i`
 * does) from a client that gets it wrong: a value that is no hash is refused by the
 * update's validator, so no thread starts; a hash of something that is no user message
 * fails the turn at once, saying what it named, instead of retrying forever. The good
 * case for comparison: an image message reaches the request (and a compaction's request)
 * with its image as a data: URL.
 */
import { randomUUID } from 'node:crypto';
import { compactThread, followTurn, startThread } from '../../src/client/threads';
import { textMessage } from '../../src/items/schemas';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, respond } from '../support/responses-builders';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==', 'base64');

describe('the user message named by hash', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const start = (item: string) => startThread(h.client, { threadId: `t-${randomUUID()}`, settings: h.settings(), text: 'look', taskQueue: h.taskQueue, item });

  test('an image message the client stored reaches the request, the image as a data: URL', async () => {
    const blob = await h.store.putBlob(PNG);
    const item = await h.store.putItem({ type: 'message', role: 'user', content: [{ type: 'input_image', image_blob: blob, mime_type: 'image/png', detail: 'high' }, { type: 'input_text', text: 'look' }] });
    h.model.enqueue(respond(assistantMessage('red')));
    const started = await start(item);
    const result = await followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });
    expect(result.status).toBe('completed');
    const input = h.model.requests[h.model.requests.length - 1].input;
    expect(input[input.length - 1]).toEqual({ type: 'message', role: 'user', content: [{ type: 'input_image', image_url: `data:image/png;base64,${PNG.toString('base64')}`, detail: 'high' }, { type: 'input_text', text: 'look' }] });
  });

  test('a compaction request sends the stored image as a data: URL too, never the bare store hash', async () => {
    const blob = await h.store.putBlob(PNG);
    const item = await h.store.putItem({ type: 'message', role: 'user', content: [{ type: 'input_image', image_blob: blob, mime_type: 'image/png', detail: 'high' }, { type: 'input_text', text: 'look' }] });
    h.model.enqueue(respond(assistantMessage('red')));
    const started = await start(item);
    await followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });
    h.model.enqueue(respond(assistantMessage('summary: the user showed a red square')));
    await compactThread(h.client, started.turnWorkflowId.split('/')[0]);
    const sent = h.model.requests[h.model.requests.length - 1];
    expect(JSON.stringify(sent.input)).not.toContain('image_blob');
    expect(sent.input.find((i) => i.type === 'message' && i.role === 'user' && Array.isArray(i.content) && i.content.some((p: { type: string }) => p.type === 'input_image'))).toMatchObject({
      content: [{ type: 'input_image', image_url: `data:image/png;base64,${PNG.toString('base64')}`, detail: 'high' }, { type: 'input_text', text: 'look' }],
    });
  });

  test('a value that is no hash is refused by the update, naming what it must be', async () => {
    const before = h.model.requests.length;
    await expect(start('../etc/passwd')).rejects.toThrow(/64-hex-digit hash of a stored user message/);
    expect(h.model.requests.length).toBe(before);
  });

  test('a hash of an assistant message fails the turn at once, naming it, and sends nothing to the model', async () => {
    const before = h.model.requests.length;
    const item = await h.store.putItem(textMessage('assistant', 'not yours'));
    const started = await start(item);
    // The turn workflow fails (the session records the turn as failed and goes on).
    const error = await followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 }).then(() => null, (err: unknown) => err);
    const messages: string[] = [];
    for (let e = error as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) messages.push(e.message ?? '');
    expect(messages).toContain(`the turn's input ${item} is a assistant message, not a user message`);
    expect(h.model.requests.length).toBe(before);
  });
});
