/**
 * config.toml through the compiled CLI against the scripted model: a provider table, a
 * profile chosen with -p, -c values over it, the global AGENTS.md of the Unroll home
 * reaching the model, a Codex home imported with `unroll config import-codex`, and the
 * deprecated config.json still working with its one-line notice.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, startCliFixture, type CliFixture } from './run-cli';
import { assistantMessage, respond } from '../support/responses-builders';

describe('config.toml under the real CLI', () => {
  let fixture: CliFixture;
  /** The fixture's environment without the UNROLL_MODEL / UNROLL_BASE_URL it sets, so config files decide. */
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    fixture = await startCliFixture('config-toml');
    env = { ...fixture.env, UNROLL_MODEL: undefined, UNROLL_BASE_URL: undefined, OPENAI_API_KEY: undefined, SCRIPTED_KEY: 'k' };
  });
  afterAll(async () => {
    await fixture.close();
  });
  afterEach(async () => {
    fixture.model.assertProtocol();
    for (const name of ['config.toml', 'config.json', 'AGENTS.md', 'fast.config.toml']) await rm(path.join(fixture.home, name), { force: true });
  });

  const providerTable = () => `[model_providers.scripted]\nname = "Scripted"\nbase_url = "${fixture.model.url}"\nenv_key = "SCRIPTED_KEY"\nwire_api = "responses"\n`;

  async function turn(args: string[], runEnv = env) {
    fixture.model.enqueue(respond(assistantMessage('done')));
    const run = await runCli(['exec', ...args, 'hello'], runEnv, fixture.workspace);
    return { run, request: fixture.model.requests.at(-1) };
  }

  test('uses the provider table, the -p profile and -c values over it, and the global AGENTS.md', async () => {
    await writeFile(path.join(fixture.home, 'config.toml'), `model = "top-model"\nmodel_provider = "scripted"\nmodel_reasoning_effort = "low"\n${providerTable()}\n[profiles.fast]\nmodel = "fast-model"\nmodel_reasoning_effort = "high"\n`);
    await writeFile(path.join(fixture.home, 'AGENTS.md'), 'Global: answer briefly.\n');
    const plain = await turn(['--json']);
    expect(plain.run.code).toBe(0);
    expect(plain.request?.body).toMatchObject({ model: 'top-model', reasoning: { effort: 'low' } });
    expect(plain.request?.headers.authorization).toBe('Bearer k');
    const texts = plain.request?.input.flatMap((i) => (Array.isArray(i.content) ? i.content.map((c: { text?: string }) => c.text ?? '') : []));
    expect(texts).toContain('# AGENTS.md instructions\n\n<INSTRUCTIONS>\nGlobal: answer briefly.\n</INSTRUCTIONS>');
    const profiled = await turn(['--json', '-p', 'fast']);
    expect(profiled.run.code).toBe(0);
    expect(profiled.request?.body).toMatchObject({ model: 'fast-model', reasoning: { effort: 'high' } });
    const overridden = await turn(['-c', 'model_reasoning_effort="minimal"', '--profile', 'fast', '-c', 'model=c-model', '--json']);
    expect(overridden.run.code).toBe(0);
    expect(overridden.request?.body).toMatchObject({ model: 'c-model', reasoning: { effort: 'minimal' } });
  });

  test('imports a Codex home with `config import-codex`, then runs with its settings', async () => {
    const codexHome = await mkdtemp(path.join(os.tmpdir(), 'unroll-codex-home-'));
    try {
      await writeFile(path.join(codexHome, 'config.toml'), `model = "codex-model"\nmodel_provider = "scripted"\nhide_agent_reasoning = true\n${providerTable()}`);
      await writeFile(path.join(codexHome, 'fast.config.toml'), 'model = "codex-fast"\n');
      await writeFile(path.join(codexHome, 'AGENTS.md'), 'From Codex.\n');
      const imported = await runCli(['config', 'import-codex'], { ...env, CODEX_HOME: codexHome }, fixture.workspace);
      expect(imported).toMatchObject({ code: 0, stderr: '' });
      expect(imported.stdout.split('\n')).toEqual([
        'imported model_providers.scripted',
        'imported model',
        'imported model_provider',
        'imported fast.config.toml: model',
        'skipped  hide_agent_reasoning (not used by Unroll)',
        `wrote    ${path.join(fixture.home, 'config.toml')}`,
        `wrote    ${path.join(fixture.home, 'fast.config.toml')}`,
        `wrote    ${path.join(fixture.home, 'AGENTS.md')}`,
        '',
      ]);
      const { run, request } = await turn(['--json', '-p', 'fast']);
      expect(run.code).toBe(0);
      expect(request?.body.model).toBe('codex-fast');
      expect(JSON.stringify(request?.input)).toContain('From Codex.');
    } finally {
      await rm(codexHome, { recursive: true, force: true });
    }
  });

  test('still reads config.json, with a one-line deprecation notice on stderr', async () => {
    await writeFile(path.join(fixture.home, 'config.json'), JSON.stringify({ model: 'json-model', baseUrl: fixture.model.url, envKey: 'SCRIPTED_KEY' }));
    const { run, request } = await turn(['--json']);
    expect(run.code).toBe(0);
    expect(request?.body.model).toBe('json-model');
    expect(run.stderr.split('\n')[0]).toBe(`unroll: ${path.join(fixture.home, 'config.json')} is deprecated: run \`unroll config migrate\` to convert it to config.toml`);
    const migrated = await runCli(['config', 'migrate'], env, fixture.workspace);
    expect(migrated.code).toBe(0);
    const after = await turn(['--json']);
    expect(after.run.code).toBe(0);
    expect(after.run.stderr).not.toContain('deprecated');
    expect(after.request?.body.model).toBe('json-model');
    await rm(path.join(fixture.home, 'config.json.migrated'), { force: true });
  });
});
