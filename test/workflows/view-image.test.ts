/**
 * view_image through the whole loop: a real PNG on disk reaches the next request as
 * `input_image` content, exactly as Codex 0.171 sends it, while the transcript keeps the
 * image once in the store, by hash. Failures are Codex's texts for the model.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { selectThreadTools } from '../../src/tools/thread-tools';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import type { RecordedRequest } from '../support/responses-server';
import { assistantMessage, functionCall, respond } from '../support/responses-builders';

/** A 2×2 RGB PNG (the one the Codex capture used). */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFElEQVR4nGP4z8DAAMIM/////w8AH+4F+7C4l8kAAAAASUVORK5CYII=', 'base64');

describe('view_image', () => {
  let h: Harness;
  let firstRequest: number;
  beforeAll(async () => {
    h = await startHarness();
    await writeFile(path.join(h.workspace, 'shot.png'), PNG);
    await writeFile(path.join(h.workspace, 'notes.txt'), 'not an image\n');
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    firstRequest = h.model.requests.length;
  });
  afterEach(() => {
    h.model.assertProtocol();
  });
  const request = (i: number): RecordedRequest => h.model.requests[firstRequest + i];
  const threadOf = (model: string) => {
    const context = { model, sandboxMode: 'danger-full-access' as const, approvalPolicy: 'never' as const };
    return { ...context, tools: selectThreadTools(context) };
  };
  const outputOf = (req: RecordedRequest, callId: string) => req.input.find((i) => i.type === 'function_call_output' && i.call_id === callId)?.output;

  test('a PNG the model views reaches the next request as input_image content, stored once by hash', async () => {
    const call = functionCall('view_image', { path: 'shot.png' });
    h.model.enqueue(respond(call), respond(assistantMessage('two by two')));
    const { result, events } = await h.runThread('look at shot.png', threadOf('gpt-5.5'));

    expect(result.status).toBe('completed');
    expect((request(0).body.tools as Array<{ name: string }>).map((t) => t.name)).toContain('view_image');
    expect(outputOf(request(1), call.call_id)).toEqual([{ type: 'input_image', image_url: `data:image/png;base64,${PNG.toString('base64')}`, detail: 'original' }]);
    const stored = (await transcriptItems(h, result.head)).find((i) => i.type === 'function_call_output' && i.call_id === call.call_id);
    const hash = (stored as { output: Array<{ image_blob: string }> }).output[0].image_blob;
    expect(stored).toEqual({ type: 'function_call_output', call_id: call.call_id, output: [{ type: 'input_image', image_blob: hash, mime_type: 'image/png', detail: 'original' }] });
    expect(await h.store.getBlob(hash)).toEqual(PNG);
    expect(events.find((e) => e.kind === 'tool.completed')).toMatchObject({ name: 'view_image', success: true });
  });

  test('models without original detail get the image at high detail', async () => {
    const call = functionCall('view_image', { path: path.join(h.workspace, 'shot.png') });
    h.model.enqueue(respond(call), respond(assistantMessage('ok')));
    await h.runThread('look', threadOf('test-model'));
    expect(outputOf(request(1), call.call_id)).toEqual([{ type: 'input_image', image_url: `data:image/png;base64,${PNG.toString('base64')}`, detail: 'high' }]);
  });

  test('a missing file and a file that is no image are told to the model in Codex’s words', async () => {
    const missing = functionCall('view_image', { path: 'missing.png' });
    const text = functionCall('view_image', { path: 'notes.txt' });
    h.model.enqueue(respond([missing, text]), respond(assistantMessage('ok')));
    const { result } = await h.runThread('look', threadOf('test-model'));
    expect(result.status).toBe('completed');
    expect(outputOf(request(1), missing.call_id)).toBe(`unable to locate image at \`${path.join(h.workspace, 'missing.png')}\`: No such file or directory (os error 2)`);
    expect(outputOf(request(1), text.call_id)).toBe('unable to process image: invalid or unsupported image data');
  });

  test('a thread started before view_image existed is not offered it, and a call of it is an unknown tool', async () => {
    const call = functionCall('view_image', { path: 'shot.png' });
    h.model.enqueue(respond(call), respond(assistantMessage('ok')));
    await h.runThread('look', {});
    expect((request(0).body.tools as Array<{ name: string }>).map((t) => t.name)).toEqual(['shell', 'apply_patch', 'update_plan']);
    expect(outputOf(request(1), call.call_id)).toBe('unknown tool "view_image". Available tools: shell, apply_patch, update_plan');
  });
});
