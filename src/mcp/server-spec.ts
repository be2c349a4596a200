/**
 * What a thread records about each MCP server it uses: the `[mcp_servers.<name>]` table
 * of the config, resolved (defaults filled in, timeouts in ms), as a plain value. The
 * client stores the list in the transcript store when the thread starts
 * (`SessionSettings.mcpServers` holds its hash), so the thread's host starts exactly the
 * servers the thread was started with, whatever its own config says by then, and the
 * values (which may hold tokens in `env`) stay out of Temporal history.
 */
import { z } from 'zod';
import type { McpServerConfig } from '../config/config';

/** Codex's default for `startup_timeout_sec`: 10 s to start, initialise and list tools. */
export const DEFAULT_MCP_STARTUP_TIMEOUT_MS = 10_000;

/** Codex's default for `tool_timeout_sec`: one minute per call. */
export const DEFAULT_MCP_TOOL_TIMEOUT_MS = 60_000;

/** Codex's rule for server names: they become part of tool names, so the Responses API's characters only. */
export const MCP_SERVER_NAME = /^[a-zA-Z0-9_-]+$/;

/** What the config says about one of a server's tools (`[mcp_servers.<name>.tools.<tool>]`). */
export const McpToolSettings = z.object({
  /** `approve`: calls run without asking (the tool is known to be safe); `prompt` (default): asked for as any tool not known to be safe. */
  approvalMode: z.enum(['approve', 'prompt']).optional(),
  /** True when running a call twice does no harm: a crash retry runs it again instead of reporting it interrupted. */
  idempotent: z.boolean().optional(),
});
export type McpToolSettings = z.infer<typeof McpToolSettings>;

/** One MCP server as a thread records it. */
export const McpServerSpec = z.object({
  name: z.string().regex(MCP_SERVER_NAME),
  transport: z.enum(['stdio', 'streamable_http']),
  command: z.string().min(1).optional(),
  args: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  /** Variables passed through from the thread's tool environment (`env_vars`). */
  envVars: z.array(z.string()),
  cwd: z.string().min(1).optional(),
  url: z.string().min(1).optional(),
  /** The worker's environment variable that holds the bearer token (`bearer_token_env_var`). */
  bearerTokenEnvVar: z.string().min(1).optional(),
  httpHeaders: z.record(z.string(), z.string()),
  /** Header name → worker environment variable (`env_http_headers`). */
  envHttpHeaders: z.record(z.string(), z.string()),
  startupTimeoutMs: z.number().int().positive(),
  toolTimeoutMs: z.number().int().positive(),
  enabledTools: z.array(z.string()).optional(),
  disabledTools: z.array(z.string()),
  tools: z.record(z.string(), McpToolSettings),
});
export type McpServerSpec = z.infer<typeof McpServerSpec>;

/** The specs of the enabled servers of a config, sorted by name (the order tools are listed in). */
export function mcpServerSpecs(servers: Readonly<Record<string, McpServerConfig>>): McpServerSpec[] {
  return Object.values(servers)
    .filter((s) => s.enabled !== false)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((s) => McpServerSpec.parse({
      name: s.name,
      transport: s.transport,
      ...(s.command !== undefined ? { command: s.command } : {}),
      args: s.args ?? [],
      env: s.env ?? {},
      envVars: s.env_vars ?? [],
      ...(s.cwd !== undefined ? { cwd: s.cwd } : {}),
      ...(s.url !== undefined ? { url: s.url } : {}),
      ...(s.bearer_token_env_var !== undefined ? { bearerTokenEnvVar: s.bearer_token_env_var } : {}),
      httpHeaders: s.http_headers ?? {},
      envHttpHeaders: s.env_http_headers ?? {},
      startupTimeoutMs: s.startup_timeout_ms ?? (s.startup_timeout_sec !== undefined ? Math.ceil(s.startup_timeout_sec * 1000) : DEFAULT_MCP_STARTUP_TIMEOUT_MS),
      toolTimeoutMs: s.tool_timeout_sec !== undefined ? Math.ceil(s.tool_timeout_sec * 1000) : DEFAULT_MCP_TOOL_TIMEOUT_MS,
      ...(s.enabled_tools !== undefined ? { enabledTools: s.enabled_tools } : {}),
      disabledTools: s.disabled_tools ?? [],
      tools: Object.fromEntries(Object.entries(s.tools ?? {}).map(([tool, t]) => [tool, {
        ...(t.approval_mode !== undefined ? { approvalMode: t.approval_mode } : {}),
        ...(t.idempotent !== undefined ? { idempotent: t.idempotent } : {}),
      }])),
    }));
}

/** Whether the config offers the server's tool `tool` (`enabled_tools`, then `disabled_tools`). */
export function mcpToolEnabled(spec: McpServerSpec, tool: string): boolean {
  if (spec.enabledTools && !spec.enabledTools.includes(tool)) return false;
  return !spec.disabledTools.includes(tool);
}

/** The config key that names a server, for messages (`mcp_servers.<name>`). */
export function mcpConfigKey(server: string): string {
  return `mcp_servers.${server}`;
}
