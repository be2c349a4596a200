/**
 * An agent step's durable writes: the inference activity stores the response's items and
 * the step's transcript node in one round of writes (each write is an fsync on the file
 * store), because nothing names the node before the activity returns its hash.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { FsStoreBackend, TranscriptStore, type ObjectLinks, type StoreBackend } from '../../src/store';
import { call, user } from './store-fixtures';

/** A real file store that records how many of its writes were in flight at once. */
class InFlightBackend implements StoreBackend {
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly inner: StoreBackend) {}
  get(hash: string) { return this.inner.get(hash); }
  has(hash: string) { return this.inner.has(hash); }
  getMarker(key: string) { return this.inner.getMarker(key); }
  putMarker(key: string, value: string) { return this.inner.putMarker(key, value); }
  async put(hash: string, data: Buffer, links?: ObjectLinks): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.inner.put(hash, data, links);
    } finally {
      this.inFlight--;
    }
  }
}

describe('a step\'s durable writes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-durable-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the items and the node that appends them at once, and names the same transcript as writing them in turn', async () => {
    const backend = new InFlightBackend(new FsStoreBackend(path.join(dir, 'a')));
    const store = new TranscriptStore(backend);
    const root = await store.putNode(null, [await store.putItem(user('start'))]);
    const leading = [await store.putItem(user('tool output'))];
    backend.maxInFlight = 0;
    const items = [call('c1'), call('c2')];

    const written = await store.putItemsAndNode(root, leading, items, { kind: 'step', turn: 1, step: 2 });

    expect(backend.maxInFlight).toBe(items.length + 1);
    const sequential = new TranscriptStore(new FsStoreBackend(path.join(dir, 'b')));
    const expectedItems = await sequential.putItems(items);
    expect(written.items).toEqual(expectedItems);
    expect(written.head).toBe(await sequential.putNode(root, [...leading, ...expectedItems], { kind: 'step', turn: 1, step: 2 }));
    const loaded = await new TranscriptStore(new FsStoreBackend(path.join(dir, 'a'))).loadTranscript(written.head);
    expect(loaded.map((s) => s.item)).toEqual([user('start'), user('tool output'), ...items]);
  });
});
