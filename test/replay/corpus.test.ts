/**
 * The replay corpus: bundles recorded from the scenarios of ./corpus-scenarios.ts with
 * an earlier version of the code (test/fixtures/corpus, refreshed by
 * `npm run corpus:refresh`). Every workflow run in them must replay against the current
 * workflow code, so a change that breaks threads already running in production fails
 * here. When it does, guard the change with `patched()` (see the README) rather than
 * refreshing the corpus.
 */
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { buildThreadRun } from '../../src/history/build-run';
import { bundleHistories, bundleStore, readBundle } from '../../src/history/bundle';
import { replayThread } from '../../src/history/replay';
import { quietRuntime, testEnvironment } from '../support/harness';
import { CORPUS_SCENARIOS } from './corpus-scenarios';

jest.setTimeout(180_000);

const CORPUS_DIR = path.resolve(__dirname, '..', 'fixtures', 'corpus');

describe('the replay corpus', () => {
  beforeAll(() => quietRuntime());

  test('holds one bundle per scenario', async () => {
    const files = (await readdir(CORPUS_DIR)).filter((f) => f.endsWith('.unroll.gz')).sort();
    expect(files).toEqual(CORPUS_SCENARIOS.map((s) => `${s.name}.unroll.gz`).sort());
  });

  describe.each(CORPUS_SCENARIOS.map((s) => [s.name, s.description]))('%s (%s)', (name) => {
    const file = path.join(CORPUS_DIR, `${name}.unroll.gz`);

    test('every workflow run replays against the current workflow code', async () => {
      const bundle = await readBundle(file);
      const outcomes = await replayThread(bundleHistories(bundle, file), { workflowBundlePath: testEnvironment().bundlePath });
      expect(outcomes.length).toBe(bundle.workflows.length);
      expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    });

    test('still reads as a thread with steps', async () => {
      const bundle = await readBundle(file);
      const run = await buildThreadRun(bundleHistories(bundle, file), bundleStore(bundle));
      expect(run.threadId).toBe(bundle.threadId);
      expect(run.turns.length).toBeGreaterThan(0);
      expect(run.turns.every((t) => t.steps.length > 0 && t.steps.every((s) => s.inference.outcome !== 'scheduled'))).toBe(true);
    });
  });
});
