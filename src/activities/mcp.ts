/**
 * MCP on the thread's host: `listMcpTools` starts the thread's MCP servers (once per
 * worker process: src/mcp/pool.ts) and lists their tools when the thread starts; the tool
 * activity runs calls through {@link McpHost.caller}. Both run on the pinned host, where
 * the servers live.
 *
 * A server's launch is fixed by the thread's record: its spec (stored by the client that
 * started the thread), the environment (Codex's default variables and the server's
 * `env_vars` from the thread's tool environment, then its `env`), its `cwd` or the
 * thread's workspace, and for HTTP servers the headers, with tokens read from this
 * worker's environment (`bearer_token_env_var`, `env_http_headers`).
 *
 * A server that fails to start is left out of the thread's tools and reported (it names
 * the server and its config key); a call whose server fails, dies or times out is a tool
 * error for the model, never a stuck or failed turn.
 */
import type { DynamicToolRecord } from '../config/settings';
import { McpServerGoneError, McpServerStartError, McpCallTimeoutError } from '../mcp/errors';
import { qualifyToolNames } from '../mcp/naming';
import type { McpClientPool, McpLaunch } from '../mcp/pool';
import { mcpToolError, mcpToolResult } from '../mcp/results';
import { McpServerSpec, mcpToolEnabled } from '../mcp/server-spec';
import type { TranscriptStore } from '../store/transcript-store';
import { usesFreeformApplyPatch } from '../tools/apply-patch/freeform';
import type { FunctionToolSpec, NamespaceToolSpec } from '../tools/contract';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { specsHash, ThreadToolSpecs } from '../tools/thread-tools';
import { loadThreadEnvironment } from '../tools/thread-environment';
import type { McpCaller } from '../tools/types';
import { currentActivityEnv } from './activity-context';
import type { ListMcpToolsInput, ListMcpToolsResult, McpStartupFailure } from './types';

/** The variables a stdio server gets from the thread's environment whatever its config (Codex's list). */
export const MCP_DEFAULT_ENV_VARS = ['HOME', 'LOGNAME', 'PATH', 'SHELL', 'USER', 'LANG', 'LC_ALL', 'TERM', 'TMPDIR', 'TZ'];

/** Dependencies of the MCP activities. */
export interface McpDeps {
  readonly store: TranscriptStore;
  readonly pool: McpClientPool;
  /** The worker's filtered tool environment (threads without a recorded one). */
  readonly toolEnvironment: Readonly<Record<string, string>>;
  /** Reads a variable of the worker's own environment (tokens of HTTP servers). */
  readonly secret: (name: string) => string | undefined;
}

const HEARTBEAT_MS = 1000;

/** Starts, lists and calls the thread's MCP servers on this host. */
export class McpHost {
  private readonly specs = new Map<string, McpServerSpec>();
  private readonly toolSpecs: ThreadToolSpecs;

  constructor(private readonly deps: McpDeps) {
    this.toolSpecs = new ThreadToolSpecs(deps.store);
  }

  /** The activity: lists the tools of every server of the thread (in parallel); see the module comment. */
  async listMcpTools(input: ListMcpToolsInput): Promise<ListMcpToolsResult> {
    const { settings } = input;
    const base = settings.tools;
    if (!base || settings.mcpServers === undefined) throw new TypeError(`thread ${input.threadId} has no tool list or no MCP servers to list`);
    const env = currentActivityEnv();
    const beat = setInterval(() => env.heartbeat({ phase: 'mcp startup' }), HEARTBEAT_MS);
    try {
      const servers = (await this.deps.store.getValue(settings.mcpServers, 'store object')) as string[];
      const environment = await this.environment(settings.toolEnvironment);
      const failures: McpStartupFailure[] = [];
      const listed = await Promise.all(servers.map(async (hash) => {
        const spec = await this.spec(hash);
        try {
          const tools = await this.deps.pool.listTools(this.launch(spec, environment, settings.cwd));
          return tools.filter((t) => mcpToolEnabled(spec, t.name)).map((t) => ({ server: spec.name, tool: t.name, config: hash, spec, listed: t }));
        } catch (err) {
          failures.push({ server: spec.name, message: err instanceof McpServerStartError ? err.message : new McpServerStartError(spec.name, (err as Error).message).message });
          return [];
        }
      }));
      const named = qualifyToolNames(listed.flat()).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const mcpSpecs = namespaceSpecs(named);
      const dynamic: Record<string, DynamicToolRecord> = {};
      for (const t of named) {
        const settingsOfTool = t.spec.tools[t.tool] ?? {};
        dynamic[t.name] = {
          source: 'mcp', server: t.server, tool: t.tool, config: t.config,
          approval: settingsOfTool.approvalMode === 'approve' ? 'safe' : 'ask',
          sideEffects: settingsOfTool.idempotent === true ? 'idempotent' : 'at-most-once',
          timeoutMs: t.spec.toolTimeoutMs,
        };
      }
      const specs = [...(await this.toolSpecs.forThread(settings)), ...mcpSpecs];
      await this.deps.store.putValue(specs);
      return { tools: { names: [...base.names, ...named.map((t) => t.name)], specs: specsHash(specs), dynamic }, failures: failures.sort((a, b) => (a.server < b.server ? -1 : 1)) };
    } finally {
      clearInterval(beat);
    }
  }

  /** What the tool activity gives MCP tools as `ctx.mcp`, for a call of a thread with this environment and workspace. */
  caller(environmentHash: string | undefined, cwd: string): McpCaller {
    return {
      call: async (record, args, ctx, model) => {
        const spec = await this.spec(record.config);
        const launch = this.launch(spec, await this.environment(environmentHash), cwd);
        const beat = setInterval(() => ctx.heartbeat({ phase: 'mcp call' }), HEARTBEAT_MS);
        const started = performance.now();
        try {
          const result = await this.deps.pool.callTool(launch, record.tool, args, ctx.signal);
          // Codex sends MCP images at the detail view_image uses for the model.
          const detail = model !== undefined && usesFreeformApplyPatch(model) ? 'original' : 'high';
          return await mcpToolResult(record.server, record.tool, result, this.deps.store, { wallMs: performance.now() - started, detail });
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          const known = err instanceof McpServerStartError || err instanceof McpServerGoneError || err instanceof McpCallTimeoutError;
          const message = known ? err.message : `MCP tool ${record.server}/${record.tool} failed: ${(err as Error).message}`;
          return mcpToolError(record.server, record.tool, message, performance.now() - started);
        } finally {
          clearInterval(beat);
        }
      },
    };
  }

  private async spec(hash: string): Promise<McpServerSpec> {
    const cached = this.specs.get(hash);
    if (cached) return cached;
    const spec = McpServerSpec.parse(await this.deps.store.getValue(hash, 'store object'));
    this.specs.set(hash, spec);
    return spec;
  }

  private async environment(hash: string | undefined): Promise<Readonly<Record<string, string>>> {
    if (hash === undefined) return this.deps.toolEnvironment;
    return (await loadThreadEnvironment(this.deps.store, hash)) ?? this.deps.toolEnvironment;
  }

  private launch(spec: McpServerSpec, environment: Readonly<Record<string, string>>, cwd: string): McpLaunch {
    const env: Record<string, string> = {};
    for (const name of [...MCP_DEFAULT_ENV_VARS, ...spec.envVars]) if (environment[name] !== undefined) env[name] = environment[name];
    Object.assign(env, spec.env);
    const headers: Record<string, string> = { ...spec.httpHeaders };
    for (const [header, variable] of Object.entries(spec.envHttpHeaders)) {
      const value = this.deps.secret(variable);
      if (value !== undefined) headers[header] = value;
    }
    if (spec.bearerTokenEnvVar !== undefined) {
      const token = this.deps.secret(spec.bearerTokenEnvVar);
      if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    }
    return { spec, env: spec.transport === 'stdio' ? env : {}, cwd: spec.cwd ?? cwd, headers };
  }
}

/**
 * The `tools` entries of the listed tools, as Codex 0.171 sends them: one namespace per
 * server (`Tools in the mcp__<server> namespace.`), its functions sorted by name, each
 * schema with its keys sorted (Codex's JSON values are sorted maps).
 */
function namespaceSpecs(named: ReadonlyArray<{ namespace: string; function: string; listed: Tool }>): NamespaceToolSpec[] {
  const byNamespace = new Map<string, FunctionToolSpec[]>();
  for (const t of named) {
    const fn: FunctionToolSpec = { type: 'function', name: t.function, description: t.listed.description ?? '', strict: false, parameters: inputSchema(t.listed.inputSchema) };
    byNamespace.set(t.namespace, [...(byNamespace.get(t.namespace) ?? []), fn]);
  }
  return [...byNamespace].map(([name, tools]) => ({ type: 'namespace', name, description: `Tools in the ${name} namespace.`, tools }));
}

/** A tool's input schema as a function's parameters: keys sorted, and an object schema always has `properties` (as Codex makes sure). */
function inputSchema(schema: unknown): Record<string, unknown> {
  const s: Record<string, unknown> = typeof schema === 'object' && schema !== null ? { ...(schema as Record<string, unknown>) } : { type: 'object' };
  if (s.type === 'object' && s.properties === undefined) s.properties = {};
  return sortedKeys(s) as Record<string, unknown>;
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]));
}

/** Stores the thread's MCP server specs (each by itself, then the list of their hashes); returns the list's hash for `SessionSettings.mcpServers`. */
export async function recordMcpServers(store: Pick<TranscriptStore, 'putValue'>, specs: readonly McpServerSpec[]): Promise<string> {
  const hashes: string[] = [];
  for (const spec of specs) hashes.push(await store.putValue(spec));
  return store.putValue(hashes);
}
