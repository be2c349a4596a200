/**
 * The shape of `<home>/config.toml`: Codex's key names for everything Unroll shares with
 * Codex, plus an `[unroll]` table for Unroll's own settings. Every key is optional, and
 * each layer (the file, a profile, `-c` values, environment variables) is checked on its
 * own, so an error names the layer it is in. Keys Unroll does not know are ignored, as
 * Codex ignores them (a Codex config has many that concern only Codex's TUI); the
 * `[unroll]` table is Unroll's own, so an unknown key there is an error.
 */
import { z } from 'zod';
import { MAX_FAILOVER_AFTER_S, MAX_SHELL_TIMEOUT_MS, ReasoningEffort, ReasoningSummary, SandboxMode, WebSearchMode } from './settings';

const nonEmpty = z.string().min(1);
const EnvVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a valid environment variable name');

/** `approval_policy`: Codex's values; the ones Unroll does not implement get an error saying so. */
export const ApprovalPolicyToml = z.enum(['untrusted', 'on-request', 'never', 'on-failure']);

/** One `[model_providers.<id>]` table. `base_url` may come from another layer or a built-in provider. */
export const ModelProviderToml = z.looseObject({
  name: nonEmpty.optional(),
  base_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  env_key: EnvVarName.optional(),
  wire_api: z.enum(['responses', 'chat']).optional(),
  /** Unroll's own: whether the provider offers `/responses/compact` (only OpenAI's API does). */
  remote_compaction: z.boolean().optional(),
});
export type ModelProviderToml = z.infer<typeof ModelProviderToml>;

const EnvPattern = z.string().min(1).regex(/^[^=\0]+$/, 'a pattern cannot contain "=" or a NUL character');

/** `[shell_environment_policy]` (see src/tools/environment.ts for what each key does). */
export const ShellEnvironmentPolicyToml = z.looseObject({
  inherit: z.enum(['all', 'core', 'none']).optional(),
  ignore_default_excludes: z.boolean().optional(),
  exclude: z.array(EnvPattern).optional(),
  include_only: z.array(EnvPattern).optional(),
  set: z.record(EnvVarName, z.string().regex(/^[^\0]*$/, 'a value cannot contain a NUL character')).optional(),
});

/** `[sandbox_workspace_write]`: what `workspace-write` also allows. */
export const SandboxWorkspaceWriteToml = z.looseObject({
  writable_roots: z.array(z.string().regex(/^\//, 'expected an absolute path')).optional(),
  network_access: z.boolean().optional(),
});

/**
 * One `[mcp_servers.<name>]` table, as Codex reads it: a stdio server (`command`, `args`,
 * `env`, `cwd`) or a streamable HTTP one (`url`, `bearer_token_env_var`, `http_headers`).
 * Parsed and kept in the resolved configuration; whether it has one transport is checked
 * once the layers are merged.
 */
export const McpServerToml = z.looseObject({
  command: nonEmpty.optional(),
  args: z.array(z.string()).optional(),
  env: z.record(EnvVarName, z.string()).optional(),
  env_vars: z.array(EnvVarName).optional(),
  cwd: nonEmpty.optional(),
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  bearer_token_env_var: EnvVarName.optional(),
  http_headers: z.record(z.string(), z.string()).optional(),
  env_http_headers: z.record(z.string(), EnvVarName).optional(),
  enabled: z.boolean().optional(),
  required: z.boolean().optional(),
  startup_timeout_sec: z.number().positive().optional(),
  startup_timeout_ms: z.number().int().positive().optional(),
  tool_timeout_sec: z.number().positive().optional(),
  enabled_tools: z.array(z.string()).optional(),
  disabled_tools: z.array(z.string()).optional(),
  /**
   * `[mcp_servers.<name>.tools.<tool>]`: per tool, `approval_mode = "approve"` runs its
   * calls without asking (the tool is known to be safe; `"prompt"`, the default, asks
   * under untrusted and on-request), and Unroll's own `idempotent = true` lets a crash
   * retry run a call again instead of reporting it interrupted.
   */
  tools: z.record(z.string(), z.strictObject({ approval_mode: z.enum(['approve', 'prompt']).optional(), idempotent: z.boolean().optional() })).optional(),
});
export type McpServerToml = z.infer<typeof McpServerToml>;

/** The `[unroll]` table: Unroll's own settings (what config.json held). */
export const UnrollTableToml = z.strictObject({
  temporal: z
    .strictObject({
      address: nonEmpty,
      namespace: nonEmpty,
      task_queue: nonEmpty,
      cli_path: nonEmpty,
      auto_start_server: z.boolean(),
    })
    .partial()
    .optional(),
  /** The transcript store: `file:<dir>` or `postgres://…` (see src/store/store-spec.ts). */
  store: z.string().optional(),
  /** Payload and store encryption: a key file, relative to the Unroll home. */
  encryption: z.strictObject({ key_file: nonEmpty }).optional(),
  /** This host's id (see src/shared/hosts.ts). */
  // Checked (with a message naming the setting) by loadConfig.
  host_id: z.string().optional(),
  /** Default shell command timeout when the model gives none. */
  shell_timeout_ms: z.number().int().positive().max(MAX_SHELL_TIMEOUT_MS).optional(),
  /** The command tool of new threads: Codex's `exec_command` + `write_stdin`, or `shell` (absent: by model; src/tools/unified-exec/choice.ts). */
  command_tool: z.enum(['exec_command', 'shell']).optional(),
  /** `remote` (the provider's /responses/compact) or `local` (a summary request). */
  compaction: z.enum(['remote', 'local']).optional(),
  /** Host failover: seconds a pinned host may be silent before its threads move (0: never). */
  failover_after: z.number().int().nonnegative().max(MAX_FAILOVER_AFTER_S).optional(),
  /** How long the resident worker may sit idle before it stops, in ms. */
  worker_idle_timeout_ms: z.number().int().positive().optional(),
  /** Where this host's worker restores the workspaces of threads it adopts. */
  workspace_root: nonEmpty.optional(),
  /** Workspace checkpoints of new threads (src/checkpoints). */
  checkpoints: z
    .strictObject({ enabled: z.boolean(), max_bytes: z.number().int().positive(), exclude: z.array(nonEmpty) })
    .partial()
    .optional(),
});

/** The keys a profile may set: everything but profiles themselves. */
const settingsShape = {
  model: nonEmpty.optional(),
  model_provider: nonEmpty.optional(),
  /** The provider `--oss` uses when `--local-provider` is not given. */
  oss_provider: z.enum(['lmstudio', 'ollama']).optional(),
  model_providers: z.record(nonEmpty, ModelProviderToml).optional(),
  approval_policy: ApprovalPolicyToml.optional(),
  sandbox_mode: SandboxMode.optional(),
  sandbox_workspace_write: SandboxWorkspaceWriteToml.optional(),
  shell_environment_policy: ShellEnvironmentPolicyToml.optional(),
  mcp_servers: z.record(nonEmpty, McpServerToml).optional(),
  project_doc_max_bytes: z.number().int().nonnegative().optional(),
  project_doc_fallback_filenames: z.array(z.string().min(1).regex(/^[^/\\]+$/, 'a file name, not a path')).optional(),
  // null only from config.json (no reasoning settings); TOML has no null.
  model_reasoning_effort: ReasoningEffort.nullable().optional(),
  model_reasoning_summary: ReasoningSummary.optional(),
  model_context_window: z.number().int().positive().optional(),
  model_auto_compact_token_limit: z.number().int().positive().optional(),
  /** The hosted web search: `cached` (default), `live` or `disabled` (src/tools/web-search.ts). */
  web_search: WebSearchMode.optional(),
  /** Codex's feature flags; Unroll reads the older web search switches (`web_search` wins over them). */
  features: z.looseObject({ web_search_request: z.boolean().optional(), web_search_cached: z.boolean().optional() }).optional(),
  unroll: UnrollTableToml.optional(),
};

/** A profile (`[profiles.<name>]` or `<home>/<name>.config.toml`). */
export const ProfileToml = z.looseObject(settingsShape);

/** The whole of config.toml (or one `-c` / environment layer). */
export const ConfigToml = z.looseObject({
  ...settingsShape,
  /** Legacy Codex: the profile used when `-p` is not given. */
  profile: nonEmpty.optional(),
  profiles: z.record(nonEmpty, ProfileToml).optional(),
});
export type ConfigToml = z.infer<typeof ConfigToml>;
