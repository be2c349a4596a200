/**
 * Editing the past for a fork: replacing one tool output writes a new chain that shares
 * every node before the edited one, against a real store in a temp dir.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { replaceToolOutput, ToolOutputNotFoundError } from '../../src/history/fork-point';
import { textMessage } from '../../src/items/schemas';
import { openFsStore, type TranscriptStore } from '../../src/store';

describe('replacing a tool output', () => {
  let dir: string;
  let store: TranscriptStore;
  let root: string;
  let middle: string;
  let head: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-fork-point-'));
    store = openFsStore(dir);
    root = await store.append(null, [textMessage('user', 'go'), { type: 'function_call', call_id: 'c1', name: 'shell', arguments: '{}' }], { kind: 'turn-start' });
    middle = await store.append(root, [{ type: 'function_call_output', call_id: 'c1', output: 'original' }, { type: 'function_call', call_id: 'c2', name: 'shell', arguments: '{}' }], { kind: 'step' });
    head = await store.append(middle, [{ type: 'function_call_output', call_id: 'c2', output: 'second' }, textMessage('assistant', 'done')], { kind: 'step' });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the new chain holds the edited output, keeps every other item in order and shares the nodes before it', async () => {
    const edited = await replaceToolOutput(store, head, 'c1', 'edited');
    const items = (await store.loadTranscript(edited)).map((s) => s.item);
    expect(items).toEqual([
      textMessage('user', 'go'),
      { type: 'function_call', call_id: 'c1', name: 'shell', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c1', output: 'edited' },
      { type: 'function_call', call_id: 'c2', name: 'shell', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c2', output: 'second' },
      textMessage('assistant', 'done'),
    ]);
    const chain = (await store.nodeChain(edited)).reverse();
    expect(chain[0]).toBe(root);
    expect(chain.slice(1)).not.toContain(middle);
    expect((await store.getNode(chain[1])).meta).toEqual({ kind: 'step', edited: 'c1' });
    expect((await store.loadTranscript(head)).map((s) => s.item)).toContainEqual({ type: 'function_call_output', call_id: 'c1', output: 'original' });
  });

  test('an unknown call id names the calls that have outputs', async () => {
    const attempt = replaceToolOutput(store, head, 'c9', 'x');
    await expect(attempt).rejects.toBeInstanceOf(ToolOutputNotFoundError);
    await expect(attempt).rejects.toThrow('no tool output for call c9 in the transcript at the fork point (calls with outputs: c1, c2)');
  });
});
