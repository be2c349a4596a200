/**
 * `unroll config import-codex` and `unroll config migrate` on real homes: what is
 * imported and skipped, that the written config.toml loads, that nothing is overwritten
 * without --force and that Unroll's own [unroll] settings survive.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import { importCodexHome, migrateLegacyConfig } from '../../src/config/codex-import';

let home: string;
let codex: string;

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'unroll-import-home-'));
  codex = await mkdtemp(path.join(os.tmpdir(), 'unroll-import-codex-'));
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(codex, { recursive: true, force: true });
});

const CODEX_TOML = `model = "gpt-5.1-codex"
model_provider = "local"
approval_policy = "on-failure"
sandbox_mode = "workspace-write"
notify = ["notify-send"]

[model_providers.local]
name = "Local"
base_url = "http://127.0.0.1:8080/v1"
env_key = "LOCAL_KEY"
wire_api = "responses"

[model_providers.legacy]
base_url = "http://127.0.0.1:8081/v1"
wire_api = "chat"

[profiles.fast]
model = "fast-model"
model_verbosity = "low"

[tui]
notifications = true
`;

describe('importCodexHome', () => {
  it('imports the shared keys, profile files and global instructions, and reports what it skipped', async () => {
    await writeFile(path.join(codex, 'config.toml'), CODEX_TOML);
    await writeFile(path.join(codex, 'slow.config.toml'), 'model = "slow-model"\nhide_agent_reasoning = true\n');
    await writeFile(path.join(codex, 'AGENTS.md'), 'Global rules\n');
    const report = importCodexHome(codex, home);
    expect(report.imported).toEqual(['model_providers.local', 'profiles.fast.model', 'model', 'model_provider', 'sandbox_mode', 'slow.config.toml: model']);
    expect(report.skipped).toEqual([
      'approval_policy = "on-failure" (not supported by Unroll: use untrusted, on-request or never)',
      'notify (not used by Unroll)',
      'model_providers.legacy (wire_api = "chat": Unroll speaks only the Responses API)',
      'profiles.fast.model_verbosity (not used by Unroll)',
      'tui (not used by Unroll)',
      'slow.config.toml: hide_agent_reasoning (not used by Unroll)',
    ]);
    expect(report.written).toEqual([path.join(home, 'config.toml'), path.join(home, 'slow.config.toml'), path.join(home, 'AGENTS.md')]);
    expect(await readFile(path.join(home, 'AGENTS.md'), 'utf8')).toBe('Global rules\n');
    const config = loadConfig({ UNROLL_HOME: home });
    expect(config.session).toMatchObject({ model: 'gpt-5.1-codex', sandboxMode: 'workspace-write', provider: { name: 'local', baseUrl: 'http://127.0.0.1:8080/v1', envKey: 'LOCAL_KEY' } });
    expect(loadConfig({ UNROLL_HOME: home }, { profile: 'fast' }).session.model).toBe('fast-model');
    expect(loadConfig({ UNROLL_HOME: home }, { profile: 'slow' }).session.model).toBe('slow-model');
  });

  it('refuses to replace a config.toml without force, and keeps its [unroll] table with force', async () => {
    await writeFile(path.join(codex, 'config.toml'), 'model = "codex-model"\n');
    await writeFile(path.join(home, 'config.toml'), 'model = "mine"\n[unroll]\nstore = "file:/srv/store"\n');
    expect(() => importCodexHome(codex, home)).toThrow(ConfigError);
    expect(() => importCodexHome(codex, home)).toThrow(`${path.join(home, 'config.toml')} already exists: give --force to replace its Codex settings (its [unroll] table is kept)`);
    importCodexHome(codex, home, { force: true });
    const config = loadConfig({ UNROLL_HOME: home });
    expect(config.session.model).toBe('codex-model');
    expect(config.store.spec).toBe('file:/srv/store');
  });

  it('keeps a differing global AGENTS.md of the Unroll home unless forced', async () => {
    await writeFile(path.join(codex, 'AGENTS.md'), 'codex rules\n');
    await writeFile(path.join(home, 'AGENTS.md'), 'unroll rules\n');
    expect(importCodexHome(codex, home).skipped).toEqual([`${path.join(codex, 'AGENTS.md')} (${path.join(home, 'AGENTS.md')} exists and differs; --force replaces it)`]);
    expect(await readFile(path.join(home, 'AGENTS.md'), 'utf8')).toBe('unroll rules\n');
  });

  it('names the Codex file and line of a value Unroll cannot use', async () => {
    await writeFile(path.join(codex, 'config.toml'), 'model = "m"\nsandbox_mode = "yolo"\n');
    expect(() => importCodexHome(codex, home)).toThrow(new RegExp(`^${path.join(codex, 'config.toml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: sandbox_mode: `));
    expect(existsSync(path.join(home, 'config.toml'))).toBe(false);
  });

  it('says when the Codex home has nothing to import', () => {
    expect(() => importCodexHome(codex, home)).toThrow(`nothing to import: ${codex} has no config.toml and no AGENTS.md (set CODEX_HOME or give --codex-home)`);
  });
});

describe('migrateLegacyConfig', () => {
  it('writes the equivalent config.toml and retires config.json', async () => {
    const legacy = { model: 'm', provider: 'corp', providers: { corp: { baseUrl: 'https://llm.corp.example/v1', envKey: 'CORP_KEY' } }, temporal: { namespace: 'ns' }, store: 'file:/srv/s', shellTimeoutMs: 5000 };
    await writeFile(path.join(home, 'config.json'), JSON.stringify(legacy));
    const before = loadConfig({ UNROLL_HOME: home });
    migrateLegacyConfig(home);
    expect(existsSync(path.join(home, 'config.json'))).toBe(false);
    const after = loadConfig({ UNROLL_HOME: home });
    expect(after.session).toEqual(before.session);
    expect(after.temporal).toEqual(before.temporal);
    expect(after.store.spec).toBe('file:/srv/s');
    expect(() => migrateLegacyConfig(home)).toThrow(/already exists: nothing to migrate/);
  });
});
