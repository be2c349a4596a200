/**
 * The deprecated `<home>/config.json`: its schema, as before config.toml, and its
 * translation into a config.toml layer, so that an old home keeps working (with a
 * deprecation notice, see {@link legacyConfigNotice}) and `unroll config migrate` can
 * write the equivalent config.toml.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { ShellEnvironmentPolicy } from '../tools/environment';
import { ConfigError } from './errors';
import { readOptionalFile, type ConfigLayer } from './toml-layers';
import type { ConfigToml } from './toml-schema';
import { ApprovalPolicy, MAX_FAILOVER_AFTER_S, MAX_SHELL_TIMEOUT_MS, ReasoningEffort, ReasoningSummary, SandboxMode } from './settings';

const ProviderEntry = z.object({ baseUrl: z.string().url(), envKey: z.string().nullable().optional(), remoteCompaction: z.boolean().optional() }).strict();

/** The shape of the deprecated `<home>/config.json`; every field optional. */
export const ConfigFile = z
  .object({
    model: z.string().min(1),
    provider: z.string().min(1),
    baseUrl: z.string().url(),
    envKey: z.string().min(1),
    reasoningEffort: ReasoningEffort.nullable(),
    reasoningSummary: ReasoningSummary,
    approvalPolicy: ApprovalPolicy,
    sandboxMode: SandboxMode,
    networkAccess: z.boolean(),
    shellTimeoutMs: z.number().int().positive().max(MAX_SHELL_TIMEOUT_MS),
    shellEnvironmentPolicy: ShellEnvironmentPolicy,
    contextWindow: z.number().int().positive(),
    autoCompactTokenLimit: z.number().int().positive(),
    compaction: z.enum(['remote', 'local']),
    providers: z.record(z.string(), ProviderEntry),
    temporal: z.object({ address: z.string().min(1), namespace: z.string().min(1), taskQueue: z.string().min(1), cliPath: z.string().min(1), autoStartServer: z.boolean() }).partial().strict(),
    encryption: z.object({ keyFile: z.string().min(1) }).strict(),
    store: z.string(),
    failoverAfter: z.number().int().nonnegative().max(MAX_FAILOVER_AFTER_S),
    workerIdleTimeoutMs: z.number().int().positive(),
    workspaceRoot: z.string().min(1),
    checkpoints: z.object({ enabled: z.boolean(), maxBytes: z.number().int().positive(), exclude: z.array(z.string().min(1)) }).partial().strict(),
  })
  .partial()
  .strict();
export type ConfigFile = z.infer<typeof ConfigFile>;

/** Looks up a built-in provider's endpoint and key variable. */
export type BuiltinLookup = (provider: string) => { readonly baseUrl: string; readonly envKey: string | null } | undefined;

/** The names config.json used for the settings whose origin messages name. */
const LEGACY_NAMES: Readonly<Record<string, string>> = { 'unroll.store': 'store', 'unroll.encryption.key_file': 'encryption.keyFile', 'unroll.failover_after': 'failoverAfter', 'unroll.workspace_root': 'workspaceRoot' };

/** Reads and checks config.json; undefined when there is none. */
export function readLegacyConfig(file: string): ConfigFile | undefined {
  const text = readOptionalFile(file);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = ConfigFile.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`${file} is invalid: ${issues}`);
  }
  return parsed.data;
}

/** config.json as a layer of config.toml keys (undefined when there is none). */
export function legacyJsonLayer(file: string, builtin: BuiltinLookup): ConfigLayer | undefined {
  const json = readLegacyConfig(file);
  if (json === undefined) return undefined;
  return { value: tomlFromLegacy(json, builtin), describe: (keyPath) => `${LEGACY_NAMES[keyPath.join('.')] ?? keyPath.join('.')} in ${file}` };
}

/**
 * The config.toml equivalent of a config.json. Its top-level `baseUrl`/`envKey` applied
 * to the chosen provider, so they become that provider's table.
 */
export function tomlFromLegacy(json: ConfigFile, builtin: BuiltinLookup): ConfigToml {
  const providers: Record<string, Record<string, unknown>> = {};
  for (const [name, p] of Object.entries(json.providers ?? {})) {
    providers[name] = { base_url: p.baseUrl, ...(p.envKey ? { env_key: p.envKey } : {}), ...(p.remoteCompaction !== undefined ? { remote_compaction: p.remoteCompaction } : {}) };
  }
  if (json.baseUrl !== undefined || json.envKey !== undefined) {
    const name = json.provider ?? 'openai';
    const known = providers[name] ?? (builtin(name) ? { base_url: builtin(name)?.baseUrl, env_key: builtin(name)?.envKey ?? undefined } : undefined);
    const baseUrl = json.baseUrl ?? known?.base_url;
    // As config.json had it: its envKey, else the provider's, else (an unknown provider) OPENAI_API_KEY.
    const envKey = json.envKey ?? (known ? known.env_key : 'OPENAI_API_KEY');
    providers[name] = { ...(baseUrl ? { base_url: baseUrl } : {}), ...(envKey ? { env_key: envKey } : {}), ...(known?.remote_compaction !== undefined ? { remote_compaction: known.remote_compaction } : {}) };
  }
  const t = json.temporal;
  const policy = json.shellEnvironmentPolicy;
  const unroll = {
    ...(t ? { temporal: { ...(t.address ? { address: t.address } : {}), ...(t.namespace ? { namespace: t.namespace } : {}), ...(t.taskQueue ? { task_queue: t.taskQueue } : {}), ...(t.cliPath ? { cli_path: t.cliPath } : {}), ...(t.autoStartServer !== undefined ? { auto_start_server: t.autoStartServer } : {}) } } : {}),
    ...(json.store !== undefined ? { store: json.store } : {}),
    ...(json.encryption ? { encryption: { key_file: json.encryption.keyFile } } : {}),
    ...(json.shellTimeoutMs !== undefined ? { shell_timeout_ms: json.shellTimeoutMs } : {}),
    ...(json.compaction ? { compaction: json.compaction } : {}),
    ...(json.failoverAfter !== undefined ? { failover_after: json.failoverAfter } : {}),
    ...(json.workerIdleTimeoutMs !== undefined ? { worker_idle_timeout_ms: json.workerIdleTimeoutMs } : {}),
    ...(json.workspaceRoot !== undefined ? { workspace_root: json.workspaceRoot } : {}),
    ...(json.checkpoints
      ? { checkpoints: { ...(json.checkpoints.enabled !== undefined ? { enabled: json.checkpoints.enabled } : {}), ...(json.checkpoints.maxBytes !== undefined ? { max_bytes: json.checkpoints.maxBytes } : {}), ...(json.checkpoints.exclude ? { exclude: json.checkpoints.exclude } : {}) } }
      : {}),
  };
  return {
    ...(json.model ? { model: json.model } : {}),
    ...(json.provider ? { model_provider: json.provider } : {}),
    ...(Object.keys(providers).length > 0 ? { model_providers: providers } : {}),
    ...(json.reasoningEffort !== undefined ? { model_reasoning_effort: json.reasoningEffort } : {}),
    ...(json.reasoningSummary ? { model_reasoning_summary: json.reasoningSummary } : {}),
    ...(json.approvalPolicy ? { approval_policy: json.approvalPolicy } : {}),
    ...(json.sandboxMode ? { sandbox_mode: json.sandboxMode } : {}),
    ...(json.networkAccess !== undefined ? { sandbox_workspace_write: { network_access: json.networkAccess } } : {}),
    ...(policy
      ? { shell_environment_policy: { inherit: policy.inherit, ignore_default_excludes: policy.ignoreDefaultExcludes, exclude: policy.exclude, include_only: policy.includeOnly, set: policy.set } }
      : {}),
    ...(json.contextWindow !== undefined ? { model_context_window: json.contextWindow } : {}),
    ...(json.autoCompactTokenLimit !== undefined ? { model_auto_compact_token_limit: json.autoCompactTokenLimit } : {}),
    ...(Object.keys(unroll).length > 0 ? { unroll } : {}),
  };
}

/**
 * The one-line notice for a home that still has config.json (undefined when it has none):
 * it is read when there is no config.toml, ignored when there is one.
 */
export function legacyConfigNotice(home: string, exists: (file: string) => boolean): string | undefined {
  const json = path.join(home, 'config.json');
  if (!exists(json)) return undefined;
  if (exists(path.join(home, 'config.toml'))) return `unroll: ${json} is ignored: ${path.join(home, 'config.toml')} replaces it (delete config.json)`;
  return `unroll: ${json} is deprecated: run \`unroll config migrate\` to convert it to config.toml`;
}
