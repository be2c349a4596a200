/**
 * `unroll exec -i/--image FILE` and `unroll exec resume <thread> -i FILE`, as Codex 0.171
 * sends them (checked against the real Codex CLI on a scripted model): the images go in
 * the turn's user message, each as `<image name=[Image #n] path="FILE">`, the image as
 * `input_image` (a data: URL), `</image>`, then the prompt. The bytes are in the store,
 * by hash, and never in Temporal history. Runs the compiled CLI (`npm run build` first).
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { sessionWorkflowId, turnWorkflowId } from '../../src/shared/ids';
import { openFsStore } from '../../src/store';
import { sha256Hex } from '../../src/store/canonical-json';
import { testEnvironment } from '../support/harness';
import type { RecordedRequest, ScriptedResponsesServer } from '../support/responses-server';
import { assistantMessage, respond } from '../support/responses-builders';
import { runCli, startCliFixture, type CliFixture } from './run-cli';

jest.setTimeout(120_000);

/** A 2×2 RGB PNG and a 3×1 one (the images of the Codex capture). */
const RED = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==', 'base64');
const BLUE = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAMAAAABCAIAAACUgoPjAAAADUlEQVR4nGP4z8AAQQAR+AL+4+XvtgAAAABJRU5ErkJggg==', 'base64');
const dataUrl = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

/** Codex's content parts for one image. */
const imageParts = (n: number, given: string, png: Buffer, detail: 'high' | 'original') => [
  { type: 'input_text', text: `<image name=[Image #${n}] path="${given}">` },
  { type: 'input_image', image_url: dataUrl(png), detail },
  { type: 'input_text', text: '</image>' },
];

describe('exec -i', () => {
  let fixture: CliFixture;
  let model: ScriptedResponsesServer;
  let client: Client;

  beforeAll(async () => {
    fixture = await startCliFixture('exec-images');
    model = fixture.model;
    await writeFile(path.join(fixture.workspace, 'red.png'), RED);
    await writeFile(path.join(fixture.workspace, 'blue.png'), BLUE);
    client = new Client({ connection: await Connection.connect({ address: testEnvironment().address }) });
  });
  afterAll(async () => {
    await client.connection.close();
    await fixture.close();
  });
  afterEach(() => model.assertProtocol());

  const lastUserMessage = (request: RecordedRequest) => [...request.input].reverse().find((i) => i.type === 'message' && i.role === 'user');
  const threadOf = (stdout: string): string => (JSON.parse(stdout.split('\n')[0]) as { thread_id: string }).thread_id;

  test('an image reaches the request in the first user message as Codex sends it; the store holds its bytes, history does not', async () => {
    model.enqueue(respond(assistantMessage('a red square')));
    const run = await runCli(['exec', '--json', '-i', 'red.png', '--', 'what is it'], fixture.env, fixture.workspace);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });

    const request = model.requests[model.requests.length - 1];
    expect(lastUserMessage(request)).toEqual({ type: 'message', role: 'user', content: [...imageParts(1, 'red.png', RED, 'high'), { type: 'input_text', text: 'what is it' }] });
    expect(await openFsStore(fixture.home).getBlob(sha256Hex(RED))).toEqual(RED);

    // Payloads, decoded, of the session's history and its turn's.
    const thread = threadOf(run.stdout);
    let text = '';
    for (const id of [sessionWorkflowId(thread), turnWorkflowId(thread, 1)]) {
      const history = await client.workflow.getHandle(id).fetchHistory();
      JSON.stringify(history, (k, v: unknown) => {
        if (k === 'data' && typeof v === 'string') text += `${Buffer.from(v, 'base64').toString('latin1')}\n`;
        else if (v instanceof Uint8Array) text += `${Buffer.from(v).toString('latin1')}\n`;
        return v;
      });
    }
    expect(text).toContain('"text":"what is it"');
    expect(text).not.toContain(RED.toString('base64'));
    expect(text).not.toContain(RED.toString('latin1'));
  });

  test('several images, comma-separated or repeated, go in order; a gpt-5.5 thread asks for the original detail', async () => {
    model.enqueue(respond(assistantMessage('two')), respond(assistantMessage('two again')));
    const comma = await runCli(['exec', '-m', 'gpt-5.5', '-i', 'red.png,blue.png', '--', 'compare'], fixture.env, fixture.workspace);
    expect(comma.code).toBe(0);
    const expected = { type: 'message', role: 'user', content: [...imageParts(1, 'red.png', RED, 'original'), ...imageParts(2, 'blue.png', BLUE, 'original'), { type: 'input_text', text: 'compare' }] };
    expect(lastUserMessage(model.requests[model.requests.length - 1])).toEqual(expected);
    const repeated = await runCli(['exec', '-m', 'gpt-5.5', '-i', 'red.png', '-i', 'blue.png', '--', 'compare'], fixture.env, fixture.workspace);
    expect(repeated.code).toBe(0);
    expect(lastUserMessage(model.requests[model.requests.length - 1])).toEqual(expected);
    // The human view names the images before the prompt.
    expect(repeated.stderr).toContain('user [image red.png] [image blue.png] compare');
  });

  test('exec resume <thread> -i attaches the image to that turn’s message, after the thread’s earlier turns', async () => {
    model.enqueue(respond(assistantMessage('first')), respond(assistantMessage('second')));
    const first = await runCli(['exec', '--json', 'hello'], fixture.env, fixture.workspace);
    expect(first.code).toBe(0);
    const thread = threadOf(first.stdout);
    const resumed = await runCli(['exec', 'resume', thread, '-i', 'blue.png', '--', 'and this?'], fixture.env, fixture.workspace);
    expect({ code: resumed.code, answer: resumed.stdout }).toEqual({ code: 0, answer: 'second\n' });
    const request = model.requests[model.requests.length - 1];
    expect(lastUserMessage(request)).toEqual({ type: 'message', role: 'user', content: [...imageParts(1, 'blue.png', BLUE, 'high'), { type: 'input_text', text: 'and this?' }] });
    expect(JSON.stringify(request.input)).toContain('"text":"hello"');
  });
});
