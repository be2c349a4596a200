/**
 * The web search settings of config.toml, read as Codex 0.171 reads them: `web_search =
 * "cached" | "live" | "disabled"` (top level, in a profile, or `-c`), the older
 * `[features]` switches when it is not set, `cached` by default, off by default for the
 * local providers; and which spec a new thread records for each.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, type ConfigOverrides } from '../../src/config/config';
import { selectThreadTools } from '../../src/tools/thread-tools';
import { toolSpecsFor } from '../../src/tools/registry';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'unroll-web-search-config-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const writeToml = (text: string) => writeFile(path.join(home, 'config.toml'), text);
const load = (overrides: ConfigOverrides = {}) => loadConfig({ UNROLL_HOME: home }, overrides);

describe('web_search in config.toml', () => {
  test.each([
    ['nothing set: cached', '', {}, 'cached'],
    ['web_search = "live"', 'web_search = "live"\n', {}, 'live'],
    ['web_search = "disabled"', 'web_search = "disabled"\n', {}, 'disabled'],
    ['[features] web_search_request = true (older Codex): live', '[features]\nweb_search_request = true\n', {}, 'live'],
    ['[features] web_search_cached = true: cached, and it wins over web_search_request', '[features]\nweb_search_cached = true\nweb_search_request = true\n', {}, 'cached'],
    ['web_search wins over the features', 'web_search = "disabled"\n[features]\nweb_search_request = true\n', {}, 'disabled'],
    ['a profile sets it', '[profiles.offline]\nweb_search = "disabled"\n', { profile: 'offline' }, 'disabled'],
    ['-c sets it', 'web_search = "live"\n', { configValues: ['web_search="disabled"'] }, 'disabled'],
    ['a local provider: off', 'model_provider = "ollama"\n', {}, 'disabled'],
    ['a local provider told to search: on', 'model_provider = "ollama"\nweb_search = "cached"\n', {}, 'cached'],
  ] as const)('%s', async (_name, toml, overrides, expected) => {
    await writeToml(toml);
    expect(load(overrides).session.webSearch).toBe(expected);
  });

  test('a value Codex does not know is an error that names the key and the values', async () => {
    await writeToml('web_search = "sometimes"\n');
    let error: unknown;
    try {
      load();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/web_search/);
    expect((error as Error).message).toMatch(/cached|live|disabled/);
  });

  test('a new thread records web_search after its local tools, with the spec its settings give', async () => {
    await writeToml('web_search = "live"\n');
    const session = load().session;
    const tools = selectThreadTools(session);
    expect(tools.names.at(-1)).toBe('web_search');
    expect(toolSpecsFor(tools.names, session).at(-1)).toEqual({ type: 'web_search', external_web_access: true });
  });

  test('a thread configured with web search disabled records no web_search', async () => {
    await writeToml('web_search = "disabled"\n');
    expect(selectThreadTools(load().session).names).not.toContain('web_search');
  });
});
