/**
 * How tool calls are shown (src/tools/display.ts through the exec translator and the
 * human renderer): a tool without an item of its own is a `tool_call` item, never an
 * `error` item when it succeeded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { ToolCallRef } from '../../src/activities/types';
import { ExecEventTranslator, type ExecEvent } from '../../src/client/exec-events';
import { HumanOutput } from '../../src/client/human-output';
import { openFsStore, type TranscriptStore } from '../../src/store';
import type { TurnEvent } from '../../src/workflows/definitions';

let home: string;
let store: TranscriptStore;

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'unroll-tool-display-'));
  store = openFsStore(home);
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const facts = { argv: null, knownSafe: false, escalate: false, justification: null, mutatesFiles: false, approval: 'safe' as const, changesFiles: false };
const started = (callId: string, name: string, summary: string): TurnEvent => {
  const call: ToolCallRef = { callId, name, itemHash: 'f'.repeat(64), parallelSafe: true, summary, timeoutMs: 60_000, facts };
  return { seq: 1, kind: 'tool.started', step: 1, call };
};
const completed = (callId: string, name: string, outputHash: string, success: boolean): TurnEvent => ({ seq: 2, kind: 'tool.completed', step: 1, callId, name, outputHash, success, interrupted: false, metadata: {} });

async function translate(events: TurnEvent[]): Promise<ExecEvent[]> {
  const translator = new ExecEventTranslator(store);
  const out: ExecEvent[] = [];
  for (const e of events) out.push(...(await translator.translate(e)));
  return out;
}

function human(events: ExecEvent[]): string {
  const err = new PassThrough();
  let text = '';
  err.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const view = new HumanOutput({ err, out: new PassThrough(), color: false });
  for (const e of events) view.event(e);
  return text;
}

describe('a tool without an item of its own', () => {
  test('that succeeds is a tool_call item, started then completed, and one human line', async () => {
    const out = await store.putItem({ type: 'function_call_output', call_id: 'c1', output: [{ type: 'input_image', image_blob: 'a'.repeat(64), mime_type: 'image/png', detail: 'high' }] });
    const events = await translate([started('c1', 'view_image', 'view_image: shot.png'), completed('c1', 'view_image', out, true)]);
    expect(events).toEqual([
      { type: 'item.started', item: { id: 'item_0', type: 'tool_call', tool: 'view_image', summary: 'view_image: shot.png', status: 'in_progress' } },
      { type: 'item.completed', item: { id: 'item_0', type: 'tool_call', tool: 'view_image', summary: 'view_image: shot.png', status: 'completed' } },
    ]);
    expect(human(events)).toBe('tool view_image: shot.png\n');
  });

  test('that fails is a failed tool_call item carrying what the model was told', async () => {
    const out = await store.putItem({ type: 'function_call_output', call_id: 'c1', output: 'unable to process image: invalid or unsupported image data' });
    const events = await translate([started('c1', 'view_image', 'view_image: notes.txt'), completed('c1', 'view_image', out, false)]);
    expect(events[1]).toEqual({
      type: 'item.completed',
      item: { id: 'item_0', type: 'tool_call', tool: 'view_image', summary: 'view_image: notes.txt', status: 'failed', error: 'unable to process image: invalid or unsupported image data' },
    });
    expect(human(events)).toBe('tool view_image: notes.txt\n  failed: unable to process image: invalid or unsupported image data\n');
  });
});
