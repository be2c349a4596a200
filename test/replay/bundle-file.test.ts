/** Bundle files: written gzip'd, read back exactly, and refused with a reason when damaged. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BundleError, bundleHistories, bundleStore, readBundle, writeBundle, type ThreadBundle } from '../../src/history/bundle';
import { canonicalJson, sha256Hex } from '../../src/store/canonical-json';

const object = canonicalJson({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] });
const bundle: ThreadBundle = {
  format: 'unroll-bundle',
  version: 1,
  threadId: 'th-file',
  exportedAt: '2026-11-21T00:00:00.000Z',
  workflows: [{ workflowId: 'th-file', runId: 'r1', workflowType: 'SessionWorkflow', history: { events: [{ eventId: '1', eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', workflowExecutionStartedEventAttributes: { workflowType: { name: 'SessionWorkflow' } } }] } }],
  objects: { [sha256Hex(object)]: object },
};

describe('bundle files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-bundle-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a bundle is written gzip-compressed and read back equal, with its histories and objects usable', async () => {
    const file = path.join(dir, 'nested', 'a.unroll.gz');
    await writeBundle(file, bundle);
    expect(JSON.parse(gunzipSync(await readFile(file)).toString('utf8'))).toEqual(bundle);
    const read = await readBundle(file);
    expect(read).toEqual(bundle);
    expect(Number(bundleHistories(read).workflows[0].history.events![0].eventId)).toBe(1);
    expect(await bundleStore(read).getItem(sha256Hex(object))).toEqual({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] });
  });

  test('an object whose content does not match its hash is refused', async () => {
    const file = path.join(dir, 'tampered.json');
    await writeFile(file, JSON.stringify({ ...bundle, objects: { [sha256Hex(object)]: object.replace('hi', 'ho') } }));
    await expect(readBundle(file)).rejects.toThrow(`${file} is not a valid Unroll bundle: object ${sha256Hex(object)} does not match its hash`);
  });

  test.each([
    ['not JSON at all', 'garbage'],
    ['JSON of another kind', JSON.stringify({ format: 'something-else' })],
  ])('%s is refused as a BundleError', async (_what, content) => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, content);
    await expect(readBundle(file)).rejects.toBeInstanceOf(BundleError);
  });
});
