import { DEFAULT_CHECKPOINT_SETTINGS } from '../../src/checkpoints/types';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { ConfigError, DEFAULT_MODEL, loadConfig, missingApiKey, type ConfigOverrides, type UnrollConfig } from '../../src/config/config';
import { DEFAULT_TIMINGS } from '../../src/config/settings';
import { hostTaskQueue } from '../../src/shared/hosts';
import { DEFAULT_TASK_QUEUE } from '../../src/shared/ids';
import { DEFAULT_SHELL_ENVIRONMENT_POLICY } from '../../src/tools/environment';

let home: string;

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'unroll-config-'));
});

afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const configFile = () => path.join(home, 'config.json');
const writeConfig = (value: unknown) => writeFile(configFile(), typeof value === 'string' ? value : JSON.stringify(value));

/** The pin (and tool queue) of a thread started on this machine with the shared queue `taskQueue`. */
function pinned(taskQueue: string) {
  return { toolTaskQueue: hostTaskQueue(taskQueue, os.hostname()), host: { id: os.hostname(), taskQueue: hostTaskQueue(taskQueue, os.hostname()) } };
}

/** The configuration of an empty home with no environment beyond UNROLL_HOME. */
function defaults(): UnrollConfig {
  return {
    home,
    hostId: os.hostname(),
    checkpointRoot: path.join(home, 'checkpoints'),
    temporal: {
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: DEFAULT_TASK_QUEUE,
      cliPath: undefined,
      autoStartServer: true,
      dbFile: path.join(home, 'temporal.db'),
      logFile: path.join(home, 'temporal-server.log'),
    },
    session: {
      model: DEFAULT_MODEL,
      provider: { name: 'openai', baseUrl: 'https://api.openai.com/v1', envKey: 'OPENAI_API_KEY' },
      reasoningEffort: 'medium',
      reasoningSummary: 'auto',
      approvalPolicy: 'never',
      sandboxMode: 'read-only',
      networkAccess: false,
      webSearch: 'cached',
      projectDocs: { maxBytes: 32 * 1024, fallbackFilenames: [], globalDir: home },
      shellTimeoutMs: 10_000,
      ...pinned(DEFAULT_TASK_QUEUE),
      checkpoints: DEFAULT_CHECKPOINT_SETTINGS,
      timings: DEFAULT_TIMINGS,
      failoverAfter: 120,
      context: { windowTokens: 272_000, autoCompactTokens: 244_800, compaction: 'remote', recentUserMessageTokens: 20_000, stepsPerRun: null },
    },
    toolEnvironment: { policy: DEFAULT_SHELL_ENVIRONMENT_POLICY, secretNames: ['OPENAI_API_KEY', 'UNROLL_ENCRYPTION_KEY', 'UNROLL_ENCRYPTION_KEY_FILE'] },
    store: { spec: undefined, source: 'UNROLL_STORE' },
    failover: { workspaceRoot: path.join(home, 'workspaces'), workspaceRootConfigured: false, livenessWindowMs: 75_000 },
    mcpServers: {},
    residentWorker: { idleTimeoutMs: 600_000 },
  };
}

/** Context settings of a model outside the table, on a provider without remote compaction. */
const UNKNOWN_MODEL_CONTEXT = { windowTokens: 128_000, autoCompactTokens: 115_200, compaction: 'local' as const, recentUserMessageTokens: 20_000, stepsPerRun: null };

/** The ConfigError `fn` throws. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('loadConfig', () => {
  it('uses the defaults when there is no config file', () => {
    expect(loadConfig({ UNROLL_HOME: home })).toEqual(defaults());
  });

  it('uses the values of config.json', async () => {
    await writeConfig({
      model: 'gpt-test',
      provider: 'ollama',
      reasoningEffort: null,
      reasoningSummary: 'concise',
      approvalPolicy: 'on-request',
      sandboxMode: 'workspace-write',
      networkAccess: true,
      shellTimeoutMs: 5000,
      temporal: { address: 'temporal:7233', namespace: 'ns', taskQueue: 'q', cliPath: '/bin/temporal', autoStartServer: false },
    });
    const base = defaults();
    expect(loadConfig({ UNROLL_HOME: home })).toEqual({
      ...base,
      temporal: { ...base.temporal, address: 'temporal:7233', namespace: 'ns', taskQueue: 'q', cliPath: '/bin/temporal', autoStartServer: false },
      session: {
        ...base.session,
        context: UNKNOWN_MODEL_CONTEXT,
        model: 'gpt-test',
        provider: { name: 'ollama', baseUrl: 'http://localhost:11434/v1', envKey: null },
        webSearch: 'disabled',
        reasoningEffort: null,
        reasoningSummary: 'concise',
        approvalPolicy: 'on-request',
        sandboxMode: 'workspace-write',
        networkAccess: true,
        shellTimeoutMs: 5000,
        ...pinned('q'),
      },
    });
  });

  it('lets environment variables override config.json', async () => {
    await writeConfig({ model: 'file-model', provider: 'ollama', temporal: { address: 'file:7233', namespace: 'file-ns', taskQueue: 'file-q', autoStartServer: true } });
    const config = loadConfig({
      UNROLL_HOME: home,
      UNROLL_MODEL: 'env-model',
      UNROLL_PROVIDER: 'lmstudio',
      UNROLL_TEMPORAL_ADDRESS: 'env:7233',
      UNROLL_NAMESPACE: 'env-ns',
      UNROLL_TASK_QUEUE: 'env-q',
      UNROLL_TEMPORAL_CLI: '/env/temporal',
      UNROLL_AUTO_START_SERVER: '0',
    });
    const base = defaults();
    expect(config).toEqual({
      ...base,
      temporal: { ...base.temporal, address: 'env:7233', namespace: 'env-ns', taskQueue: 'env-q', cliPath: '/env/temporal', autoStartServer: false },
      session: {
        ...base.session,
        context: UNKNOWN_MODEL_CONTEXT,
        model: 'env-model',
        provider: { name: 'lmstudio', baseUrl: 'http://localhost:1234/v1', envKey: null },
        webSearch: 'disabled',
        ...pinned('env-q'),
      },
    });
  });

  it('lets command-line overrides win over environment variables and config.json', async () => {
    await writeConfig({ model: 'file-model', approvalPolicy: 'untrusted', sandboxMode: 'read-only', networkAccess: false, reasoningEffort: 'low' });
    const config = loadConfig(
      { UNROLL_HOME: home, UNROLL_MODEL: 'env-model', UNROLL_PROVIDER: 'lmstudio', UNROLL_TEMPORAL_ADDRESS: 'env:7233', UNROLL_TASK_QUEUE: 'env-q' },
      {
        model: 'flag-model',
        provider: 'ollama',
        envKey: 'OLLAMA_KEY',
        reasoningEffort: 'high',
        approvalPolicy: 'on-request',
        sandboxMode: 'workspace-write',
        networkAccess: true,
        temporalAddress: 'flag:7233',
        taskQueue: 'flag-q',
      },
    );
    const base = defaults();
    expect(config).toEqual({
      ...base,
      temporal: { ...base.temporal, address: 'flag:7233', taskQueue: 'flag-q' },
      session: {
        ...base.session,
        context: UNKNOWN_MODEL_CONTEXT,
        model: 'flag-model',
        provider: { name: 'ollama', baseUrl: 'http://localhost:11434/v1', envKey: 'OLLAMA_KEY' },
        webSearch: 'disabled',
        reasoningEffort: 'high',
        approvalPolicy: 'on-request',
        sandboxMode: 'workspace-write',
        networkAccess: true,
        ...pinned('flag-q'),
      },
      // The thread's API key variable is dropped from tool environments by name.
      toolEnvironment: { ...base.toolEnvironment, secretNames: [...base.toolEnvironment.secretNames, 'OLLAMA_KEY'] },
    });
  });

  it.each<{ name: string; file: object; overrides: ConfigOverrides }>([
    { name: 'config.json', file: { reasoningEffort: null }, overrides: {} },
    { name: 'an override', file: { reasoningEffort: 'low' }, overrides: { reasoningEffort: null } },
  ])('keeps a null reasoning effort given in $name', async ({ file, overrides }) => {
    await writeConfig(file);
    expect(loadConfig({ UNROLL_HOME: home }, overrides).session.reasoningEffort).toBeNull();
  });

  it.each([
    { name: 'config.json', file: { provider: 'acme' }, env: {} },
    { name: 'the environment', file: {}, env: { UNROLL_PROVIDER: 'acme' } },
  ])('rejects an unknown provider from $name without a base URL, listing the known ones', async ({ file, env }) => {
    await writeConfig(file);
    expect(configError(() => loadConfig({ UNROLL_HOME: home, ...env })).message).toBe(
      'unknown provider "acme": known providers are openai, ollama, lmstudio; or give --base-url',
    );
  });

  it('lists providers from config.json among the known ones', async () => {
    await writeConfig({ providers: { corp: { baseUrl: 'https://llm.corp.example/v1' } } });
    expect(configError(() => loadConfig({ UNROLL_HOME: home }, { provider: 'acme' })).message).toBe(
      'unknown provider "acme": known providers are openai, ollama, lmstudio, corp; or give --base-url',
    );
  });

  it('accepts an unknown provider given with --base-url', () => {
    const config = loadConfig({ UNROLL_HOME: home }, { provider: 'acme', baseUrl: 'https://acme.example/v1' });
    expect(config.session.provider).toEqual({ name: 'acme', baseUrl: 'https://acme.example/v1', envKey: 'OPENAI_API_KEY' });
  });

  it('uses a provider defined in config.json', async () => {
    await writeConfig({ provider: 'corp', providers: { corp: { baseUrl: 'https://llm.corp.example/v1', envKey: 'CORP_KEY' } } });
    expect(loadConfig({ UNROLL_HOME: home }).session.provider).toEqual({ name: 'corp', baseUrl: 'https://llm.corp.example/v1', envKey: 'CORP_KEY' });
  });

  it.each([
    { name: 'ollama', provider: { name: 'ollama', baseUrl: 'http://localhost:11434/v1', envKey: null } },
    { name: 'lmstudio', provider: { name: 'lmstudio', baseUrl: 'http://localhost:1234/v1', envKey: null } },
    { name: 'openai', provider: { name: 'openai', baseUrl: 'https://api.openai.com/v1', envKey: 'OPENAI_API_KEY' } },
  ])('gives the built-in $name provider its base URL and key variable', ({ name, provider }) => {
    expect(loadConfig({ UNROLL_HOME: home }, { provider: name }).session.provider).toEqual(provider);
  });

  it('rejects a config.json that is not JSON, naming the file', async () => {
    await writeConfig('{ "model": ');
    expect(configError(() => loadConfig({ UNROLL_HOME: home })).message).toMatch(new RegExp(`^${escapeRegExp(configFile())} is not valid JSON: `));
  });

  it.each([
    { name: 'an unknown key', file: { modle: 'x' }, issue: /modle/ },
    { name: 'an unknown key in temporal', file: { temporal: { adress: 'x' } }, issue: /adress/ },
    { name: 'an unknown key in a provider', file: { providers: { x: { baseUrl: 'https://x.example/v1', envkey: 'X_KEY' } } }, issue: /envkey/ },
    { name: 'a wrong type', file: { shellTimeoutMs: 'soon' }, issue: /^shellTimeoutMs: / },
    { name: 'a bad enum value', file: { sandboxMode: 'yolo' }, issue: /^sandboxMode: / },
    { name: 'a bad provider URL', file: { providers: { x: { baseUrl: 'not a url' } } }, issue: /^providers\.x\.baseUrl: / },
    { name: 'a shell timeout over 24 hours', file: { shellTimeoutMs: 3e9 }, issue: /^shellTimeoutMs: .*86400000/ },
    { name: 'an unknown inherit mode', file: { shellEnvironmentPolicy: { inherit: 'some' } }, issue: /^shellEnvironmentPolicy\.inherit: / },
    { name: 'an empty exclude pattern', file: { shellEnvironmentPolicy: { exclude: [''] } }, issue: /^shellEnvironmentPolicy\.exclude\.0: / },
    { name: 'a set entry that is not a variable name', file: { shellEnvironmentPolicy: { set: { 'A-B': '1' } } }, issue: /^shellEnvironmentPolicy\.set\.A-B: / },
    { name: 'an unknown key in the shell environment policy', file: { shellEnvironmentPolicy: { include_only: ['PATH'] } }, issue: /include_only/ },
  ])('rejects a config.json with $name, naming the file and the field', async ({ file, issue }) => {
    await writeConfig(file);
    const message = configError(() => loadConfig({ UNROLL_HOME: home })).message;
    const prefix = `${configFile()} is invalid: `;
    expect(message.startsWith(prefix)).toBe(true);
    expect(message.slice(prefix.length)).toMatch(issue);
  });

  it('reads the shell environment policy from config.json, filling in the defaults', async () => {
    await writeConfig({ shellEnvironmentPolicy: { inherit: 'core', includeOnly: ['PATH', 'HOME'], set: { CI: '1' } } });
    expect(loadConfig({ UNROLL_HOME: home }).toolEnvironment.policy).toEqual({
      inherit: 'core', ignoreDefaultExcludes: false, exclude: [], includeOnly: ['PATH', 'HOME'], set: { CI: '1' },
    });
  });

  it('names every known provider\'s API key variable as a secret for tool environments', async () => {
    await writeConfig({ providers: { acme: { baseUrl: 'https://acme.example/v1', envKey: 'ACME_CREDENTIAL' }, local: { baseUrl: 'http://localhost:9/v1', envKey: null } } });
    expect(loadConfig({ UNROLL_HOME: home }).toolEnvironment.secretNames).toEqual(['OPENAI_API_KEY', 'UNROLL_ENCRYPTION_KEY', 'UNROLL_ENCRYPTION_KEY_FILE', 'ACME_CREDENTIAL']);
  });

  it('takes the store from config.json, naming the file as its source', async () => {
    await writeConfig({ store: 'postgres://u:pw@db:5432/unroll' });
    expect(loadConfig({ UNROLL_HOME: home }).store).toEqual({ spec: 'postgres://u:pw@db:5432/unroll', source: `store in ${configFile()}` });
  });

  it('lets UNROLL_STORE win over the store in config.json', async () => {
    await writeConfig({ store: 'postgres://u:pw@db:5432/unroll' });
    expect(loadConfig({ UNROLL_HOME: home, UNROLL_STORE: 'file:/srv/store' }).store).toEqual({ spec: 'file:/srv/store', source: 'UNROLL_STORE' });
  });

  it('resolves a relative UNROLL_HOME to an absolute path', () => {
    const relative = path.relative(process.cwd(), home);
    expect(loadConfig({ UNROLL_HOME: relative }).home).toBe(home);
  });
});

describe('missingApiKey', () => {
  const openai = { name: 'openai', baseUrl: 'https://api.openai.com/v1', envKey: 'OPENAI_API_KEY' };

  it.each([
    { name: 'unset', env: {} },
    { name: 'empty', env: { OPENAI_API_KEY: '' } },
  ])('names the variable when the key is $name', ({ env }) => {
    expect(missingApiKey(openai, env)).toBe(
      'OPENAI_API_KEY is not set: the openai provider (https://api.openai.com/v1) needs an API key. Export OPENAI_API_KEY=... or choose another provider with --provider / --base-url.',
    );
  });

  it.each([
    { name: 'the key is set', provider: openai, env: { OPENAI_API_KEY: 'sk-test' } },
    { name: 'the provider needs no key', provider: { name: 'ollama', baseUrl: 'http://localhost:11434/v1', envKey: null }, env: {} },
  ])('returns null when $name', ({ provider, env }) => {
    expect(missingApiKey(provider, env)).toBeNull();
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
