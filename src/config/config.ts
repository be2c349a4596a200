/**
 * Loading Unroll's configuration. From lowest to highest precedence: built-in defaults,
 * `<home>/config.toml` (Codex's format and key names, plus an `[unroll]` table; a home
 * that still has only the deprecated config.json reads that instead), the selected
 * profile, Unroll's environment variables, `-c key=value` values, then command-line flags
 * (the caller passes them as overrides). The layers are put together in
 * ./config-sources.ts; this module turns the result into an {@link UnrollConfig}.
 * Everything is validated with zod; a bad file or value is a {@link ConfigError} that
 * names where the bad value came from (file and line, flag or variable). Nothing else in
 * Unroll reads `process.env`: the result of this module flows in as values.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_CHECKPOINT_SETTINGS } from '../checkpoints/types';
import { hostIdProblem, hostPin } from '../shared/hosts';
import { DEFAULT_TASK_QUEUE } from '../shared/ids';
import { ShellEnvironmentPolicy } from '../tools/environment';
import { AGENTS_MD_BUDGET_BYTES } from '../prompt/agents-md';
import { configLayers, type ConfigSelection } from './config-sources';
import { ConfigError } from './errors';
import { autoCompactLimit, contextWindowFor } from './model-limits';
import { DEFAULT_FAILOVER_AFTER_S, DEFAULT_TIMINGS, MAX_FAILOVER_AFTER_S, type ApprovalPolicy, type ReasoningEffort, type SandboxMode, type ProviderSettings, type SessionSettings, type WebSearchMode } from './settings';
import { mergeLayers, type MergedLayers } from './toml-layers';
import type { ConfigToml, McpServerToml, ModelProviderToml } from './toml-schema';

export { ConfigError } from './errors';
export { ConfigFile } from './legacy-json';
export type { ConfigSelection } from './config-sources';

/** Providers known out of the box; config.toml's `[model_providers.*]` may add more or override these. */
export const BUILTIN_PROVIDERS: Record<string, Omit<ProviderSettings, 'name'> & { remoteCompaction?: boolean }> = {
  openai: { baseUrl: 'https://api.openai.com/v1', envKey: 'OPENAI_API_KEY', remoteCompaction: true },
  ollama: { baseUrl: 'http://localhost:11434/v1', envKey: null },
  lmstudio: { baseUrl: 'http://localhost:1234/v1', envKey: null },
};

/**
 * Values given on the command line; flags win over everything else, and the
 * {@link ConfigSelection} (`-c`, `-p`) chooses the layers below them.
 */
export type ConfigOverrides = ConfigSelection & {
  readonly model?: string;
  readonly provider?: string;
  readonly baseUrl?: string;
  readonly envKey?: string;
  readonly reasoningEffort?: ReasoningEffort | null;
  readonly approvalPolicy?: ApprovalPolicy;
  readonly sandboxMode?: SandboxMode;
  readonly networkAccess?: boolean;
  readonly temporalAddress?: string;
  readonly taskQueue?: string;
  /** `--host-id` of `unroll worker`. */
  readonly hostId?: string;
  /** `--failover-after` (seconds, as typed): the new thread's failover delay. */
  readonly failoverAfter?: string;
  /** `--workspace-root` of `unroll worker`. */
  readonly workspaceRoot?: string;
  /**
   * `--oss`: use a local open-source provider, the one `localProvider` (`--local-provider`)
   * names, else `oss_provider` in config.toml (as Codex: neither is an error).
   */
  readonly oss?: boolean;
  readonly localProvider?: string;
  /** `--add-dir`: writable roots added to `sandbox_workspace_write.writable_roots`. */
  readonly addDirs?: readonly string[];
};

/** An `[mcp_servers.<name>]` entry as configured, with the transport its keys choose. */
export type McpServerConfig = McpServerToml & { readonly name: string; readonly transport: 'stdio' | 'streamable_http' };
/** The resolved configuration of one process. */
export interface UnrollConfig {
  /** Unroll's own directory (`~/.unroll` unless UNROLL_HOME says otherwise). */
  readonly home: string;
  readonly temporal: {
    readonly address: string;
    readonly namespace: string;
    readonly taskQueue: string;
    readonly cliPath: string | undefined;
    readonly autoStartServer: boolean;
    readonly dbFile: string;
    readonly logFile: string;
  };
  /**
   * This process's host id (`--host-id`, `UNROLL_HOST_ID`, else the hostname): its worker
   * polls the host's own task queue, and the threads it starts are pinned to it.
   */
  readonly hostId: string;
  /** Where this host keeps the shadow repositories of workspace checkpoints (a cache). */
  readonly checkpointRoot: string;
  /** Settings for new threads (pinned to {@link hostId}), except the working directory. */
  readonly session: Omit<SessionSettings, 'cwd'>;
  /** Where the encryption keys come from; absent when encryption is off (see src/codec/keys.ts). */
  readonly encryption?: EncryptionSource;
  /** How a worker of this process builds the environment of tool processes. */
  readonly toolEnvironment: ToolEnvironmentConfig;
  /** Which transcript store to open (see src/store/open-store.ts). */
  readonly store: StoreSource;
  /** What this host's worker needs to adopt threads of lost hosts (src/activities/failover.ts). */
  readonly failover: FailoverConfig;
  /** The configured MCP servers (`[mcp_servers.*]`), enabled or not, by name. */
  readonly mcpServers: Readonly<Record<string, McpServerConfig>>;
  /** The resident worker (src/client/resident-worker.ts): how long it may sit idle before it stops. */
  readonly residentWorker: { readonly idleTimeoutMs: number };
}

/** A worker's side of host failover. */
export interface FailoverConfig {
  /**
   * Where adopted workspaces may live: a thread's original path is used when it is inside
   * this directory, else the workspace goes to `<root>/<thread id>`. Default
   * `<home>/workspaces`, where only paths that cannot be created fall back to it.
   */
  readonly workspaceRoot: string;
  /** Whether {@link workspaceRoot} was configured (then it also bounds the original path). */
  readonly workspaceRootConfigured: boolean;
  /**
   * A host counts as alive while one of its workers polled Temporal within this many ms
   * (`UNROLL_HOST_LIVENESS_WINDOW`, seconds). It must exceed the server's long-poll
   * interval (60 s by default), since an idle worker polls only that often.
   */
  readonly livenessWindowMs: number;
}

/** The default liveness window: a minute-long idle poll plus margin. */
export const DEFAULT_HOST_LIVENESS_WINDOW_S = 75;

/** Default idle time after which a resident worker stops: 10 minutes. */
export const DEFAULT_WORKER_IDLE_TIMEOUT_MS = 10 * 60_000;

/**
 * The configured transcript store: `spec` as written (undefined: the default file store
 * under the home; parsed by `openStore`) and `source`, the setting it came from
 * (`UNROLL_STORE`, `unroll.store` in config.toml, or the deprecated config.json's `store`), which errors name.
 */
export interface StoreSource {
  readonly spec: string | undefined;
  readonly source: string;
}

/**
 * The inputs of `toolEnvironment` (src/tools/environment.ts) besides the worker's own
 * environment: the configured policy, and the variables that hold secrets Unroll itself
 * uses (every known provider's API key variable, the encryption key variables), which
 * the default excludes drop by name.
 */
export interface ToolEnvironmentConfig {
  readonly policy: ShellEnvironmentPolicy;
  readonly secretNames: readonly string[];
}

/** Unroll's own secret-bearing variables, beyond the providers' API key variables. */
export const UNROLL_SECRET_VARIABLES: readonly string[] = ['OPENAI_API_KEY', 'UNROLL_ENCRYPTION_KEY', 'UNROLL_ENCRYPTION_KEY_FILE'];

/**
 * Where the AES-256-GCM keys come from: the text of `UNROLL_ENCRYPTION_KEY` (one or more
 * key specs), or a key file (`UNROLL_ENCRYPTION_KEY_FILE`, else config.toml
 * `unroll.encryption.key_file`). `origin` names the setting, for error messages. The keys
 * themselves are read and checked by `loadKeyRing` (src/codec/keys.ts).
 */
export type EncryptionSource =
  | { readonly kind: 'inline'; readonly text: string; readonly origin: string }
  | { readonly kind: 'file'; readonly path: string; readonly origin: string };

/** Defaults for a new thread's model settings. */
export const DEFAULT_MODEL = 'gpt-5.1-codex';

/**
 * Resolves the configuration. `env` is the process environment (passed in, not read
 * here); `overrides` are command-line flags, `-c` values and the profile. Throws
 * {@link ConfigError}.
 */
export function loadConfig(env: Record<string, string | undefined>, overrides: ConfigOverrides = {}): UnrollConfig {
  const home = unrollHome(env);
  const merged = mergeLayers(configLayers(home, env, overrides, (name) => BUILTIN_PROVIDERS[name]));
  const c = merged.value;
  const providers = providerTables(c);
  const providerName = overrides.provider ?? (overrides.oss ? ossProvider(overrides.localProvider, c.oss_provider) : undefined) ?? c.model_provider ?? 'openai';
  const entry = providers[providerName];
  const provider = resolveProvider(providerName, entry, overrides.baseUrl ?? env.UNROLL_BASE_URL, overrides.envKey, merged, Object.keys(providers));
  const model = overrides.model ?? c.model ?? DEFAULT_MODEL;
  const windowTokens = c.model_context_window ?? contextWindowFor(model);
  const taskQueue = overrides.taskQueue ?? c.unroll?.temporal?.task_queue ?? DEFAULT_TASK_QUEUE;
  const hostId = resolveHostId(overrides.hostId, c.unroll?.host_id, merged);
  const pin = hostPin(taskQueue, hostId);
  const writableRoots = [...(c.sandbox_workspace_write?.writable_roots ?? []), ...(overrides.addDirs ?? [])];
  return {
    home,
    hostId,
    temporal: {
      address: overrides.temporalAddress ?? c.unroll?.temporal?.address ?? '127.0.0.1:7233',
      namespace: c.unroll?.temporal?.namespace ?? 'default',
      taskQueue,
      cliPath: c.unroll?.temporal?.cli_path,
      autoStartServer: c.unroll?.temporal?.auto_start_server ?? true,
      dbFile: path.join(home, 'temporal.db'),
      logFile: path.join(home, 'temporal-server.log'),
    },
    checkpointRoot: path.join(home, 'checkpoints'),
    session: {
      model,
      provider: { name: providerName, baseUrl: provider.baseUrl, envKey: provider.envKey },
      reasoningEffort: overrides.reasoningEffort !== undefined ? overrides.reasoningEffort : c.model_reasoning_effort !== undefined ? c.model_reasoning_effort : 'medium',
      reasoningSummary: c.model_reasoning_summary ?? 'auto',
      approvalPolicy: overrides.approvalPolicy ?? approvalPolicy(c, merged) ?? 'never',
      // Codex's default: a thread may read everything and write nothing until told otherwise.
      sandboxMode: overrides.sandboxMode ?? c.sandbox_mode ?? 'read-only',
      networkAccess: overrides.networkAccess ?? c.sandbox_workspace_write?.network_access ?? false,
      ...(writableRoots.length > 0 ? { writableRoots } : {}),
      webSearch: webSearchMode(c, providerName),
      projectDocs: { maxBytes: c.project_doc_max_bytes ?? AGENTS_MD_BUDGET_BYTES, fallbackFilenames: c.project_doc_fallback_filenames ?? [], globalDir: home },
      shellTimeoutMs: c.unroll?.shell_timeout_ms ?? 10_000,
      ...(c.unroll?.command_tool ? { commandTool: c.unroll.command_tool } : {}),
      toolTaskQueue: pin.taskQueue,
      host: pin,
      checkpoints: checkpointSettings(c),
      timings: DEFAULT_TIMINGS,
      failoverAfter: failoverAfter(overrides.failoverAfter, env.UNROLL_FAILOVER_AFTER, c.unroll?.failover_after),
      context: {
        windowTokens,
        autoCompactTokens: autoCompactLimit(windowTokens, c.model_auto_compact_token_limit),
        compaction: (c.unroll?.compaction ?? (provider.remoteCompaction ? 'remote' : 'local')),
        recentUserMessageTokens: 20_000,
        stepsPerRun: null,
      },
    },
    store: storeSource(c, merged),
    failover: failoverConfig(env, overrides, c, merged, home),
    residentWorker: { idleTimeoutMs: workerIdleTimeout(env.UNROLL_WORKER_IDLE_MS, c.unroll?.worker_idle_timeout_ms) },
    ...encryptionSource(env, c, merged, home),
    toolEnvironment: {
      policy: shellEnvironmentPolicy(c),
      secretNames: secretVariableNames([provider.envKey, ...Object.values(providers).map((p) => p.env_key)]),
    },
    mcpServers: mcpServers(c, merged),
  };
}

/** Providers that serve local models: they have no hosted tools, so web search is off for them unless configured. */
const LOCAL_PROVIDERS: ReadonlySet<string> = new Set(['ollama', 'lmstudio']);

/**
 * The hosted web search, as Codex resolves it: `web_search`, else the older
 * `[features] web_search_cached` (cached) and `web_search_request` (live), else `cached`
 * (`disabled` for a local provider). danger-full-access makes it live per thread (src/tools/web-search.ts).
 */
function webSearchMode(c: ConfigToml, providerName: string): WebSearchMode {
  if (c.web_search !== undefined) return c.web_search;
  if (c.features?.web_search_cached === true) return 'cached';
  if (c.features?.web_search_request === true) return 'live';
  return LOCAL_PROVIDERS.has(providerName) ? 'disabled' : 'cached';
}

/** `[unroll.checkpoints]` over the defaults, in the shape threads record. */
function checkpointSettings(c: ConfigToml): SessionSettings['checkpoints'] {
  const t = c.unroll?.checkpoints ?? {};
  return {
    ...DEFAULT_CHECKPOINT_SETTINGS,
    ...(t.enabled !== undefined ? { enabled: t.enabled } : {}),
    ...(t.max_bytes !== undefined ? { maxBytes: t.max_bytes } : {}),
    ...(t.exclude ? { exclude: t.exclude } : {}),
  };
}

/** Unroll's home: `UNROLL_HOME`, else `~/.unroll`. */
export function unrollHome(env: Record<string, string | undefined>): string {
  return path.resolve(env.UNROLL_HOME ?? path.join(os.homedir(), '.unroll'));
}

/** The built-in providers as config.toml tables, with the configured ones merged over them. */
function providerTables(c: ConfigToml): Record<string, ModelProviderToml> {
  const tables: Record<string, ModelProviderToml> = {};
  for (const [name, p] of Object.entries(BUILTIN_PROVIDERS)) tables[name] = { base_url: p.baseUrl, ...(p.envKey ? { env_key: p.envKey } : {}) };
  for (const [name, p] of Object.entries(c.model_providers ?? {})) {
    const builtin = tables[name];
    // A configured table that names its own base URL and no key variable needs no key.
    const ownEndpoint = p.base_url !== undefined && p.base_url !== builtin?.base_url;
    tables[name] = { ...(builtin && !(ownEndpoint && p.env_key === undefined) ? builtin : {}), ...p };
  }
  return tables;
}

/** The chosen provider's endpoint, key variable and compaction support; errors name its table. */
function resolveProvider(
  name: string,
  entry: ModelProviderToml | undefined,
  baseUrlFlag: string | undefined,
  envKeyFlag: string | undefined,
  merged: MergedLayers,
  known: readonly string[],
): { baseUrl: string; envKey: string | null; remoteCompaction: boolean } {
  const where = merged.describe(['model_providers', name]) ?? `[model_providers.${name}] in config.toml`;
  if (entry?.wire_api === 'chat') throw new ConfigError(`${where}: wire_api = "chat" is not supported: Unroll speaks only the Responses API (wire_api = "responses")`);
  const baseUrl = baseUrlFlag ?? entry?.base_url;
  if (!baseUrl) {
    if (entry) throw new ConfigError(`the provider "${name}" has no base_url: set base_url in [model_providers.${name}] (${where})`);
    throw new ConfigError(`unknown provider "${name}": known providers are ${known.join(', ')}; or give --base-url`);
  }
  if (!/^https?:\/\/[^\s/]+/.test(baseUrl) || !URL.canParse(baseUrl)) {
    throw new ConfigError(`the base URL "${baseUrl}" is not an http(s) URL (from --base-url or UNROLL_BASE_URL)`);
  }
  const builtin = BUILTIN_PROVIDERS[name];
  const envKey = envKeyFlag ?? (entry ? (entry.env_key ?? null) : 'OPENAI_API_KEY');
  // Remote compaction needs the provider's /responses/compact: OpenAI's own API has it.
  const remoteCompaction = entry?.remote_compaction ?? (Boolean(builtin?.remoteCompaction) && baseUrl === builtin?.baseUrl);
  return { baseUrl, envKey, remoteCompaction };
}

/** The local provider `--oss` uses: `--local-provider`, else `oss_provider`; neither is an error (as in Codex). */
function ossProvider(flag: string | undefined, configured: string | undefined): string {
  const name = flag ?? configured;
  if (name === undefined) throw new ConfigError('--oss: no default OSS provider configured. Use --local-provider=<provider> or set oss_provider to one of: lmstudio, ollama in config.toml');
  return name;
}

/** `approval_policy`, refusing Codex's values Unroll does not implement. */
function approvalPolicy(c: ConfigToml, merged: MergedLayers): ApprovalPolicy | undefined {
  if (c.approval_policy !== 'on-failure') return c.approval_policy;
  throw new ConfigError(`${merged.describe(['approval_policy'])}: approval_policy "on-failure" (deprecated in Codex) is not supported: use untrusted, on-request or never`);
}

/** `[shell_environment_policy]` in the shape of src/tools/environment.ts, defaults filled in. */
function shellEnvironmentPolicy(c: ConfigToml): ShellEnvironmentPolicy {
  const p = c.shell_environment_policy ?? {};
  return ShellEnvironmentPolicy.parse({
    ...(p.inherit ? { inherit: p.inherit } : {}),
    ...(p.ignore_default_excludes !== undefined ? { ignoreDefaultExcludes: p.ignore_default_excludes } : {}),
    ...(p.exclude ? { exclude: p.exclude } : {}),
    ...(p.include_only ? { includeOnly: p.include_only } : {}),
    ...(p.set ? { set: { ...p.set } } : {}),
  });
}

/** `[mcp_servers.*]`, each with exactly one transport (a `command` or a `url`). */
function mcpServers(c: ConfigToml, merged: MergedLayers): Record<string, McpServerConfig> {
  const servers: Record<string, McpServerConfig> = {};
  for (const [name, server] of Object.entries(c.mcp_servers ?? {})) {
    const where = merged.describe(['mcp_servers', name]) ?? `mcp_servers.${name}`;
    if (!/^[a-zA-Z0-9_-]+$/.test(name)) {
      throw new ConfigError(`${where}: the MCP server name "${name}" may hold only letters, digits, _ and - (it becomes part of its tools' names, as in Codex)`);
    }
    if ((server.command === undefined) === (server.url === undefined)) {
      throw new ConfigError(`${where}: an MCP server needs either command (a stdio server) or url (a streamable HTTP server), ${server.command === undefined ? 'and has neither' : 'not both'}`);
    }
    servers[name] = { ...server, name, transport: server.command !== undefined ? 'stdio' : 'streamable_http' };
  }
  return servers;
}

/** The provider key variables plus Unroll's own, once each, in a stable order. */
function secretVariableNames(providerKeys: ReadonlyArray<string | null | undefined>): string[] {
  const names = providerKeys.filter((name): name is string => typeof name === 'string' && name !== '');
  return [...new Set([...UNROLL_SECRET_VARIABLES, ...names])];
}

/** The configured store and the setting it came from (`UNROLL_STORE` when none is configured). */
function storeSource(c: ConfigToml, merged: MergedLayers): StoreSource {
  const spec = c.unroll?.store;
  return { spec, source: spec === undefined ? 'UNROLL_STORE' : (merged.describe(['unroll', 'store']) ?? 'UNROLL_STORE') };
}

/**
 * Seconds given as text (a flag or an environment variable), checked: a whole number
 * from 0 to `max`. Throws a {@link ConfigError} naming `origin`.
 */
export function parseSeconds(text: string, origin: string, max: number): number {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new ConfigError(`${origin} must be a whole number of seconds from 0 to ${max}, not "${text}"`);
  }
  return value;
}

/** The failover delay for new threads: `--failover-after`, else `UNROLL_FAILOVER_AFTER`, else `unroll.failover_after`, else the default. */
function failoverAfter(flag: string | undefined, env: string | undefined, file: number | undefined): number {
  if (flag !== undefined) return parseSeconds(flag, '--failover-after (failoverAfter)', MAX_FAILOVER_AFTER_S);
  if (env !== undefined) return parseSeconds(env, 'UNROLL_FAILOVER_AFTER (failoverAfter)', MAX_FAILOVER_AFTER_S);
  return file ?? DEFAULT_FAILOVER_AFTER_S;
}

/** The worker's failover settings: workspace root (`--workspace-root`, env, file, default) and liveness window. */
function failoverConfig(env: Record<string, string | undefined>, overrides: ConfigOverrides, c: ConfigToml, merged: MergedLayers, home: string): FailoverConfig {
  const root = overrides.workspaceRoot ?? env.UNROLL_WORKSPACE_ROOT ?? c.unroll?.workspace_root;
  const origin = overrides.workspaceRoot !== undefined ? '--workspace-root' : env.UNROLL_WORKSPACE_ROOT !== undefined ? 'UNROLL_WORKSPACE_ROOT' : (merged.describe(['unroll', 'workspace_root']) ?? 'unroll.workspace_root');
  if (root !== undefined && root.trim() === '') throw new ConfigError(`the workspace root (${origin}) is empty`);
  const window = env.UNROLL_HOST_LIVENESS_WINDOW;
  const windowS = window === undefined ? DEFAULT_HOST_LIVENESS_WINDOW_S : parseSeconds(window, 'UNROLL_HOST_LIVENESS_WINDOW', MAX_FAILOVER_AFTER_S);
  if (windowS === 0) throw new ConfigError('UNROLL_HOST_LIVENESS_WINDOW must be at least 1 second');
  return {
    workspaceRoot: root !== undefined ? path.resolve(root) : path.join(home, 'workspaces'),
    workspaceRootConfigured: root !== undefined,
    livenessWindowMs: windowS * 1000,
  };
}

/** The resident worker's idle timeout: `UNROLL_WORKER_IDLE_MS`, else `unroll.worker_idle_timeout_ms`, else 10 minutes. */
function workerIdleTimeout(fromEnv: string | undefined, fromFile: number | undefined): number {
  if (fromEnv === undefined) return fromFile ?? DEFAULT_WORKER_IDLE_TIMEOUT_MS;
  const ms = Number(fromEnv);
  if (!Number.isInteger(ms) || ms <= 0) throw new ConfigError(`UNROLL_WORKER_IDLE_MS must be a positive whole number of milliseconds, not "${fromEnv}"`);
  return ms;
}

/** The host id from `--host-id`, else `UNROLL_HOST_ID` or config, else the hostname; validated. */
function resolveHostId(flag: string | undefined, configured: string | undefined, merged: MergedLayers): string {
  const [id, origin] =
    flag !== undefined ? [flag, '--host-id'] : configured !== undefined ? [configured, merged.describe(['unroll', 'host_id']) ?? 'config'] : [os.hostname(), 'the hostname (set UNROLL_HOST_ID or --host-id)'];
  const problem = hostIdProblem(id);
  if (problem) throw new ConfigError(`${problem} (from ${origin})`);
  return id;
}

/** The configured key source: env vars win over config; both env vars at once is an error. */
function encryptionSource(env: Record<string, string | undefined>, c: ConfigToml, merged: MergedLayers, home: string): { encryption?: EncryptionSource } {
  const inline = env.UNROLL_ENCRYPTION_KEY;
  const keyFile = env.UNROLL_ENCRYPTION_KEY_FILE;
  if (inline && keyFile) throw new ConfigError('both UNROLL_ENCRYPTION_KEY and UNROLL_ENCRYPTION_KEY_FILE are set: give the keys one way only');
  if (inline) return { encryption: { kind: 'inline', text: inline, origin: 'UNROLL_ENCRYPTION_KEY' } };
  if (keyFile) return { encryption: { kind: 'file', path: path.resolve(keyFile), origin: 'UNROLL_ENCRYPTION_KEY_FILE' } };
  const configured = c.unroll?.encryption?.key_file;
  if (configured) return { encryption: { kind: 'file', path: path.resolve(home, configured), origin: merged.describe(['unroll', 'encryption', 'key_file']) ?? 'unroll.encryption.key_file' } };
  return {};
}

/**
 * Checks that the API key a thread needs is present, before any workflow starts, so
 * the user gets the error at once and with the variable's name.
 */
export function missingApiKey(provider: ProviderSettings, env: Record<string, string | undefined>): string | null {
  if (!provider.envKey || env[provider.envKey]) return null;
  return `${provider.envKey} is not set: the ${provider.name} provider (${provider.baseUrl}) needs an API key. Export ${provider.envKey}=... or choose another provider with --provider / --base-url.`;
}
