/**
 * Records the replay corpus: runs every scenario of ./corpus-scenarios.ts with the
 * current code on the suite's dev server and scripted Responses server, and writes one
 * bundle per scenario to test/fixtures/corpus/ (replacing the old ones, removing bundles
 * of scenarios that no longer exist). Not part of the suite: run it with
 * `npm run corpus:refresh` (a jest run that matches only this file, so it gets the
 * suite's global setup). See the README, "Changing workflow code".
 */
import { readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { createBundle, writeBundle } from '../../src/history/bundle';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { startHarness, type Harness } from '../support/harness';
import { CORPUS_SCENARIOS, settled } from './corpus-scenarios';

/** Where the corpus lives. */
export const CORPUS_DIR = path.resolve(__dirname, '..', 'fixtures', 'corpus');

jest.setTimeout(300_000);

describe('recording the replay corpus', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  for (const scenario of CORPUS_SCENARIOS) {
    test(`${scenario.name}: ${scenario.description}`, async () => {
      const threadId = await scenario.record(h);
      h.model.assertProtocol();
      await settled(h, threadId);
      const bundle = await createBundle(await fetchThreadHistories(h.client, threadId), h.store.backend);
      await writeBundle(path.join(CORPUS_DIR, `${scenario.name}.unroll.gz`), bundle);
    });
  }

  test('bundles of scenarios that no longer exist are removed', async () => {
    const names = new Set(CORPUS_SCENARIOS.map((s) => `${s.name}.unroll.gz`));
    for (const file of await readdir(CORPUS_DIR)) {
      if (file.endsWith('.unroll.gz') && !names.has(file)) await rm(path.join(CORPUS_DIR, file));
    }
  });
});
