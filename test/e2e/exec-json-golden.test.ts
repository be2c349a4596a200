/**
 * The `exec --json` side-by-side suite: the compiled CLI runs each script of
 * bench/golden/scenarios.ts against the scripted model, and its stream must equal the
 * one the real Codex CLI 0.171 produced on the same script (the golden files in
 * test/golden/exec-json, regenerated with `npm run golden:codex`), field by field, apart
 * from Unroll's documented additions (bench/golden/compare.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { comparable, normaliseStream, parseStream, withoutAdditions, withoutCodexOnly } from '../../bench/golden/compare';
import { SCENARIOS, scenarioHandler } from '../../bench/golden/scenarios';
import { runCli, startCliFixture, type CliFixture } from './run-cli';

const GOLDEN = path.resolve(__dirname, '..', 'golden', 'exec-json');

describe('unroll exec --json, side by side with codex exec --json 0.171', () => {
  let fixture: CliFixture;

  beforeAll(async () => {
    fixture = await startCliFixture('golden');
    // Codex's config format; the same permissions as the reference run.
    await writeFile(path.join(fixture.home, 'config.toml'), 'approval_policy = "never"\nsandbox_mode = "danger-full-access"\n');
  });
  afterAll(async () => {
    await fixture.close();
  });

  test.each(SCENARIOS.map((s) => [s.name, s] as const))('script %s: the stream matches the golden file', async (_name, scenario) => {
    fixture.model.setHandler(scenarioHandler(scenario));
    const workspace = await realpath(await mkdtemp(path.join(os.tmpdir(), `unroll-golden-${scenario.name}-`)));
    try {
      execFileSync('git', ['init', '-q', workspace]);
      const run = await runCli(['exec', '--json', '-C', workspace, scenario.prompt], { ...fixture.env, UNROLL_MODEL: 'gpt-5.5' }, workspace);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      const unroll = comparable(normaliseStream(withoutAdditions(parseStream(run.stdout), scenario.difference), [workspace]));
      const golden = parseStream(await readFile(path.join(GOLDEN, `${scenario.name}.jsonl`), 'utf8'));
      const codex = comparable(normaliseStream(withoutCodexOnly(golden, scenario.difference), []));
      expect(unroll).toEqual(codex);
      fixture.model.assertProtocol();
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
  });
});
