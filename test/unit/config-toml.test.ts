/**
 * config.toml in Codex's format: the keys Unroll shares with Codex, the [unroll] table,
 * profiles (Codex 0.171's profile files and the older [profiles.*] tables), `-c` values,
 * the precedence of the layers, and errors that name the file and line of a bad value.
 * Real files in a temp home; no mocks.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, type ConfigOverrides } from '../../src/config/config';
import { legacyConfigNotice } from '../../src/config/legacy-json';

let home: string;

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'unroll-config-toml-'));
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const tomlFile = () => path.join(home, 'config.toml');
const writeToml = (text: string, name = 'config.toml') => writeFile(path.join(home, name), text);
const load = (overrides: ConfigOverrides = {}, env: Record<string, string> = {}) => loadConfig({ UNROLL_HOME: home, ...env }, overrides);

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

const CODEX_CONFIG = `
model = "gpt-5.1-codex-max"
model_provider = "local"
approval_policy = "on-request"
sandbox_mode = "workspace-write"
model_reasoning_effort = "high"
model_reasoning_summary = "concise"
model_context_window = 200000
model_auto_compact_token_limit = 150000
project_doc_max_bytes = 4096
project_doc_fallback_filenames = ["CLAUDE.md", "GUIDE.md"]
# Keys only Codex uses are ignored, as Codex ignores the ones it does not know.
notify = ["notify-send"]

[tui]
notifications = true

[model_providers.local]
name = "Local server"
base_url = "http://127.0.0.1:8080/v1"
env_key = "LOCAL_API_KEY"
wire_api = "responses"

[sandbox_workspace_write]
writable_roots = ["/srv/cache"]
network_access = true

[shell_environment_policy]
inherit = "core"
exclude = ["AWS_*"]
set = { CI = "1" }
include_only = ["PATH", "HOME", "CI"]

[mcp_servers.docs]
command = "npx"
args = ["-y", "docs-mcp"]

[mcp_servers.remote]
url = "https://mcp.example/mcp"
bearer_token_env_var = "MCP_TOKEN"

[unroll]
store = "file:/srv/unroll-store"
host_id = "build-box"
shell_timeout_ms = 30000
compaction = "local"

[unroll.temporal]
address = "temporal.internal:7233"
namespace = "agents"
task_queue = "fleet"
auto_start_server = false

[unroll.encryption]
key_file = "keys.txt"
`;

describe('config.toml', () => {
  it("reads Codex's keys and the [unroll] table into the resolved configuration", async () => {
    await writeToml(CODEX_CONFIG);
    const config = load();
    expect(config.session).toMatchObject({
      model: 'gpt-5.1-codex-max',
      provider: { name: 'local', baseUrl: 'http://127.0.0.1:8080/v1', envKey: 'LOCAL_API_KEY' },
      approvalPolicy: 'on-request',
      sandboxMode: 'workspace-write',
      networkAccess: true,
      writableRoots: ['/srv/cache'],
      reasoningEffort: 'high',
      reasoningSummary: 'concise',
      shellTimeoutMs: 30_000,
      projectDocs: { maxBytes: 4096, fallbackFilenames: ['CLAUDE.md', 'GUIDE.md'], globalDir: home },
      host: { id: 'build-box', taskQueue: 'fleet@host:build-box' },
      context: { windowTokens: 200_000, autoCompactTokens: 150_000, compaction: 'local' },
    });
    expect(config.temporal).toMatchObject({ address: 'temporal.internal:7233', namespace: 'agents', taskQueue: 'fleet', autoStartServer: false });
    expect(config.store).toEqual({ spec: 'file:/srv/unroll-store', source: `unroll.store in ${tomlFile()}` });
    expect(config.encryption).toEqual({ kind: 'file', path: path.join(home, 'keys.txt'), origin: `unroll.encryption.key_file in ${tomlFile()}` });
    expect(config.toolEnvironment.policy).toEqual({ inherit: 'core', ignoreDefaultExcludes: false, exclude: ['AWS_*'], includeOnly: ['PATH', 'HOME', 'CI'], set: { CI: '1' } });
    expect(config.toolEnvironment.secretNames).toContain('LOCAL_API_KEY');
    expect(config.mcpServers).toEqual({
      docs: { name: 'docs', transport: 'stdio', command: 'npx', args: ['-y', 'docs-mcp'] },
      remote: { name: 'remote', transport: 'streamable_http', url: 'https://mcp.example/mcp', bearer_token_env_var: 'MCP_TOKEN' },
    });
  });

  it('uses remote compaction only on the built-in OpenAI endpoint', async () => {
    await writeToml('model_provider = "openai"\n');
    expect(load().session.context.compaction).toBe('remote');
    await writeToml('[model_providers.openai]\nbase_url = "http://127.0.0.1:9999/v1"\n');
    expect(load().session.context.compaction).toBe('local');
    expect(load().session.provider).toEqual({ name: 'openai', baseUrl: 'http://127.0.0.1:9999/v1', envKey: null });
  });

  it('lets a provider table override only the key variable of a built-in provider', async () => {
    await writeToml('[model_providers.openai]\nenv_key = "WORK_OPENAI_KEY"\n');
    expect(load().session.provider).toEqual({ name: 'openai', baseUrl: 'https://api.openai.com/v1', envKey: 'WORK_OPENAI_KEY' });
  });

  it('refuses a provider that speaks the chat completions API, naming its table', async () => {
    await writeToml('model_provider = "old"\n[model_providers.old]\nbase_url = "http://127.0.0.1:1/v1"\nwire_api = "chat"\n');
    expect(configError(() => load()).message).toBe(`model_providers.old in ${tomlFile()}: wire_api = "chat" is not supported: Unroll speaks only the Responses API (wire_api = "responses")`);
  });

  it('refuses a provider table without a base URL', async () => {
    await writeToml('model_provider = "corp"\n[model_providers.corp]\nenv_key = "CORP_KEY"\n');
    expect(configError(() => load()).message).toBe(`the provider "corp" has no base_url: set base_url in [model_providers.corp] (model_providers.corp in ${tomlFile()})`);
  });

  it('refuses an MCP server with no transport or with two, naming it', async () => {
    await writeToml('[mcp_servers.broken]\nargs = ["x"]\n');
    expect(configError(() => load()).message).toBe(`mcp_servers.broken in ${tomlFile()}: an MCP server needs either command (a stdio server) or url (a streamable HTTP server), and has neither`);
    await writeToml('[mcp_servers.both]\ncommand = "x"\nurl = "http://127.0.0.1:1/mcp"\n');
    expect(configError(() => load()).message).toMatch(/mcp_servers\.both .*not both$/);
  });

  it('refuses approval_policy "on-failure", which Unroll does not implement', async () => {
    await writeToml('approval_policy = "on-failure"\n');
    expect(configError(() => load()).message).toBe(`approval_policy in ${tomlFile()}: approval_policy "on-failure" (deprecated in Codex) is not supported: use untrusted, on-request or never`);
  });
});

describe('failover and checkpoint settings in the [unroll] table', () => {
  it('reads failover_after, workspace_root and [unroll.checkpoints] over the defaults', async () => {
    await writeToml('[unroll]\nfailover_after = 30\nworkspace_root = "/srv/ws"\n\n[unroll.checkpoints]\nmax_bytes = 1000\nexclude = ["*.log"]\n');
    const config = load();
    expect(config.session.failoverAfter).toBe(30);
    expect(config.failover).toMatchObject({ workspaceRoot: '/srv/ws', workspaceRootConfigured: true });
    expect(config.session.checkpoints).toEqual({ enabled: true, maxBytes: 1000, exclude: ['*.log'] });
  });

  it('lets UNROLL_FAILOVER_AFTER win over the file, and refuses a bad checkpoint cap naming its line', async () => {
    await writeToml('[unroll]\nfailover_after = 30\n');
    expect(load({}, { UNROLL_FAILOVER_AFTER: '0' }).session.failoverAfter).toBe(0);
    await writeToml('[unroll.checkpoints]\nenabled = true\nmax_bytes = -5\n');
    expect(configError(() => load()).message).toMatch(/config\.toml:3: unroll\.checkpoints\.max_bytes/);
  });
});

describe('errors name the file and line', () => {
  it.each([
    { name: 'a value of the wrong type', text: 'model = "m"\n\nsandbox_mode = "bogus"\n', where: ':3: sandbox_mode: ' },
    { name: 'a bad value in a table', text: 'model = "m"\n[unroll]\nstore = "file:/x"\n\n[unroll.temporal]\naddress = "a:1"\nauto_start_server = "yes"\n', where: ':7: unroll.temporal.auto_start_server: ' },
    { name: 'a bad value in a provider table', text: '[model_providers.x]\nname = "X"\nbase_url = "ftp://x"\n', where: ':3: model_providers.x.base_url: expected an http(s) URL' },
    { name: 'a dotted key', text: 'a = 1\nshell_environment_policy.inherit = "some"\n', where: ':2: shell_environment_policy.inherit: ' },
    { name: 'a bad value in a profile table', text: '[profiles.fast]\nmodel = "m"\nmodel_reasoning_effort = "extreme"\n', where: ':3: profiles.fast.model_reasoning_effort: ' },
    { name: 'an unknown key in the [unroll] table', text: '[unroll]\nstore = "file:/x"\ntemporal_addres = "x"\n', where: ':3: unroll: Unrecognized key: "temporal_addres"' },
  ])('$name', async ({ text, where }) => {
    await writeToml(text);
    expect(configError(() => load()).message).toContain(`${tomlFile()}${where}`);
  });

  it('reports a TOML syntax error with its line and column', async () => {
    await writeToml('model = "m"\nsandbox_mode = \n');
    expect(configError(() => load()).message).toMatch(new RegExp(`^${tomlFile().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:\\d+: invalid TOML: `));
  });

  it('names the -c value that is bad', () => {
    expect(configError(() => load({ configValues: ['model_context_window=abc'] })).message).toBe('-c model_context_window=abc: model_context_window: Invalid input: expected number, received string');
    expect(configError(() => load({ configValues: ['model'] })).message).toBe('-c model: expected key=value (e.g. -c model="o3")');
  });

  it('names a profile file and its line', async () => {
    await writeToml('model = "m"\n');
    await writeToml('model = "fast"\nsandbox_mode = 3\n', 'fast.config.toml');
    expect(configError(() => load({ profile: 'fast' })).message).toContain(`${path.join(home, 'fast.config.toml')}:2: sandbox_mode: `);
  });
});

describe('profiles', () => {
  it('layers <home>/<name>.config.toml over config.toml for -p <name> (Codex 0.171)', async () => {
    await writeToml('model = "top"\nsandbox_mode = "read-only"\n');
    await writeToml('model = "slow-model"\nmodel_reasoning_effort = "high"\n', 'slow.config.toml');
    expect(load({ profile: 'slow' }).session).toMatchObject({ model: 'slow-model', reasoningEffort: 'high', sandboxMode: 'read-only' });
    expect(load().session.model).toBe('top');
  });

  it('uses the [profiles.<name>] table of config.toml, chosen by -p or by profile = (earlier Codex)', async () => {
    await writeToml('model = "top"\nprofile = "fast"\n[profiles.fast]\nmodel = "fast-model"\n[profiles.deep]\nmodel = "deep-model"\nmodel_reasoning_effort = "xhigh"\n');
    expect(load().session.model).toBe('fast-model');
    expect(load({ profile: 'deep' }).session).toMatchObject({ model: 'deep-model', reasoningEffort: 'xhigh' });
  });

  it('refuses a profile that is not defined, or defined twice', async () => {
    await writeToml('model = "top"\n[profiles.fast]\nmodel = "a"\n');
    expect(configError(() => load({ profile: 'nope' })).message).toBe(`the profile "nope" (-p) is not defined: there is no ${path.join(home, 'nope.config.toml')} and no [profiles.nope] in ${tomlFile()}`);
    await writeToml('model = "b"\n', 'fast.config.toml');
    expect(configError(() => load({ profile: 'fast' })).message).toMatch(/^the profile "fast" is defined twice: /);
    expect(configError(() => load({ profile: '../etc/x' })).message).toMatch(/^the profile name "\.\.\/etc\/x" \(-p\) is not valid/);
  });
});

describe('-c overrides', () => {
  it('parses values as TOML, falling back to a literal string, with dotted keys', () => {
    const config = load({
      configValues: ['model=o3', 'model_context_window=100000', 'sandbox_workspace_write.network_access=true', 'project_doc_fallback_filenames=["CLAUDE.md"]', 'shell_environment_policy.set.CI="yes"', 'unroll.temporal.namespace=other'],
    });
    expect(config.session).toMatchObject({ model: 'o3', networkAccess: true, context: { windowTokens: 100_000 }, projectDocs: { fallbackFilenames: ['CLAUDE.md'] } });
    expect(config.toolEnvironment.policy.set).toEqual({ CI: 'yes' });
    expect(config.temporal.namespace).toBe('other');
  });

  it('can choose a profile, define a provider and edit a profile table', async () => {
    await writeToml('[profiles.fast]\nmodel = "fast-model"\n');
    const config = load({ configValues: ['profile=fast', 'profiles.fast.sandbox_mode="read-only"', 'model_providers.lab={ base_url = "http://127.0.0.1:7/v1" }', 'model_provider=lab'] });
    expect(config.session).toMatchObject({ model: 'fast-model', sandboxMode: 'read-only', provider: { name: 'lab', baseUrl: 'http://127.0.0.1:7/v1', envKey: null } });
  });

  it('applies the order: flags > -c > environment > profile > config.toml > defaults', async () => {
    await writeToml('model = "from-file"\nsandbox_mode = "read-only"\napproval_policy = "untrusted"\nmodel_reasoning_effort = "low"\n[profiles.p]\nmodel = "from-profile"\nsandbox_mode = "workspace-write"\napproval_policy = "on-request"\n[unroll.temporal]\naddress = "file:1"\n');
    const env = { UNROLL_MODEL: 'from-env', UNROLL_TEMPORAL_ADDRESS: 'env:1' };
    expect(load({ profile: 'p' }).session).toMatchObject({ model: 'from-profile', sandboxMode: 'workspace-write', approvalPolicy: 'on-request', reasoningEffort: 'low' });
    expect(load({ profile: 'p' }, env).session.model).toBe('from-env');
    expect(load({ profile: 'p' }, env).temporal.address).toBe('env:1');
    const withC = load({ profile: 'p', configValues: ['model="from-c"', 'unroll.temporal.address="c:1"', 'approval_policy=never'] }, env);
    expect(withC.session).toMatchObject({ model: 'from-c', approvalPolicy: 'never' });
    expect(withC.temporal.address).toBe('c:1');
    const withFlags = load({ profile: 'p', configValues: ['model="from-c"'], model: 'from-flag', temporalAddress: 'flag:1', approvalPolicy: 'untrusted' }, env);
    expect(withFlags.session).toMatchObject({ model: 'from-flag', approvalPolicy: 'untrusted' });
    expect(withFlags.temporal.address).toBe('flag:1');
    expect(load({ ignoreUserConfig: true }).session.model).toBe('gpt-5.1-codex');
  });
});

describe('the deprecated config.json', () => {
  it('keeps working in a home without config.toml, and is ignored beside one', async () => {
    await writeFile(path.join(home, 'config.json'), JSON.stringify({ model: 'json-model', provider: 'ollama', temporal: { namespace: 'old' } }));
    expect(load().session).toMatchObject({ model: 'json-model', provider: { name: 'ollama' } });
    expect(load().temporal.namespace).toBe('old');
    expect(legacyConfigNotice(home, (f) => f.endsWith('config.json'))).toBe(`unroll: ${path.join(home, 'config.json')} is deprecated: run \`unroll config migrate\` to convert it to config.toml`);
    await writeToml('model = "toml-model"\n');
    expect(load().session.model).toBe('toml-model');
    expect(load().temporal.namespace).toBe('default');
    expect(legacyConfigNotice(home, () => true)).toBe(`unroll: ${path.join(home, 'config.json')} is ignored: ${tomlFile()} replaces it (delete config.json)`);
    expect(legacyConfigNotice(home, () => false)).toBeUndefined();
  });

  it('keeps its top-level baseUrl and envKey semantics', async () => {
    await writeFile(path.join(home, 'config.json'), JSON.stringify({ provider: 'acme', baseUrl: 'https://acme.example/v1' }));
    expect(load().session.provider).toEqual({ name: 'acme', baseUrl: 'https://acme.example/v1', envKey: 'OPENAI_API_KEY' });
    await writeFile(path.join(home, 'config.json'), JSON.stringify({ baseUrl: 'http://127.0.0.1:5/v1', envKey: 'MY_KEY' }));
    expect(load().session.provider).toEqual({ name: 'openai', baseUrl: 'http://127.0.0.1:5/v1', envKey: 'MY_KEY' });
    expect(load().session.context.compaction).toBe('local');
  });
});
