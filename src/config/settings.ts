/**
 * The settings a thread runs with. They travel in workflow inputs, so they hold only
 * names and small values: never an API key (only the name of the environment variable
 * the worker reads it from).
 */
import { z } from 'zod';
import { CheckpointSettings } from '../checkpoints/types';
import { HOST_ID } from '../shared/hosts';

export const ReasoningEffort = z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);
export type ReasoningEffort = z.infer<typeof ReasoningEffort>;
export const ReasoningSummary = z.enum(['auto', 'concise', 'detailed', 'none']);
export const ApprovalPolicy = z.enum(['untrusted', 'on-request', 'never']);
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;
export const SandboxMode = z.enum(['read-only', 'workspace-write', 'danger-full-access']);
export type SandboxMode = z.infer<typeof SandboxMode>;

/**
 * The longest a shell command may run: 24 hours. A longer `timeout_ms` from the model is
 * clamped to it (Node's timers cannot even represent more than about 24.8 days: a larger
 * delay fires at once), and config.toml's `unroll.shell_timeout_ms` may not exceed it.
 */
export const MAX_SHELL_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** The default of `failoverAfter` (seconds): a pinned host silent this long is given up. */
export const DEFAULT_FAILOVER_AFTER_S = 120;

/** The largest `failoverAfter` (seconds): one week; longer is better said with 0 (never). */
export const MAX_FAILOVER_AFTER_S = 7 * 24 * 60 * 60;

/** Where inference requests go and how they authenticate. */
export const ProviderSettings = z.object({
  /** A short name for messages and config, e.g. `openai`, `ollama`. */
  name: z.string().min(1),
  /** Base URL of a Responses-compatible API, ending before `/responses`. */
  baseUrl: z.string().url(),
  /** Environment variable holding the API key on the worker, if the provider needs one. */
  envKey: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).nullable(),
});
export type ProviderSettings = z.infer<typeof ProviderSettings>;

/** Timeouts and retry knobs of the activities, in milliseconds. */
export const ActivityTimings = z.object({
  inferenceStartToCloseMs: z.number().int().positive(),
  inferenceHeartbeatMs: z.number().int().positive(),
  /** The model stream is abandoned (and retried) after this long without an event. */
  streamIdleMs: z.number().int().positive(),
  toolHeartbeatMs: z.number().int().positive(),
  /** Extra time a tool activity gets beyond the command's own timeout. */
  toolGraceMs: z.number().int().nonnegative(),
  retryInitialMs: z.number().int().positive(),
  retryMaxMs: z.number().int().positive(),
});
export type ActivityTimings = z.infer<typeof ActivityTimings>;

/** The production defaults: generous, so a slow model or a long build is not cut short. */
export const DEFAULT_TIMINGS: ActivityTimings = {
  inferenceStartToCloseMs: 15 * 60_000,
  inferenceHeartbeatMs: 60_000,
  streamIdleMs: 300_000,
  toolHeartbeatMs: 30_000,
  toolGraceMs: 60_000,
  retryInitialMs: 1_000,
  retryMaxMs: 60_000,
};

/** How the thread's context is kept within the model's window. */
export const ContextSettings = z.object({
  /** The model's context window, in tokens. */
  windowTokens: z.number().int().positive(),
  /** Compact when the context estimate passes this (at most 90% of the window). */
  autoCompactTokens: z.number().int().positive(),
  /** `remote`: the provider's /responses/compact; `local`: a summary request. */
  compaction: z.enum(['remote', 'local']),
  /** Budget for the most recent user messages kept verbatim by a local compaction. */
  recentUserMessageTokens: z.number().int().positive(),
  /** Continue-as-new after this many steps in one run (null: only when Temporal suggests it). */
  stepsPerRun: z.number().int().positive().nullable(),
});
export type ContextSettings = z.infer<typeof ContextSettings>;

/** Codex's `web_search` modes. */
export const WebSearchMode = z.enum(['disabled', 'cached', 'live']);
export type WebSearchMode = z.infer<typeof WebSearchMode>;

/**
 * A tool a thread found at its start rather than in the registry (an MCP server's tool,
 * src/tools/mcp-tool.ts), recorded in `SessionSettings.tools.dynamic` under its
 * model-facing name: what the workflow and the tool activity need to describe and run its
 * calls. Its spec is in the thread's recorded spec array.
 */
export const DynamicToolRecord = z.object({
  source: z.literal('mcp'),
  /** The server's name (`[mcp_servers.<server>]`) and the tool's own name on it. */
  server: z.string().min(1),
  tool: z.string().min(1),
  /** Store hash of the server's recorded spec (src/mcp/server-spec.ts). */
  config: z.string().regex(/^[0-9a-f]{64}$/),
  /** `safe` only when the config marks the tool so; otherwise `ask`. */
  approval: z.enum(['safe', 'ask']),
  /** `at-most-once` unless the config marks the tool idempotent. */
  sideEffects: z.enum(['idempotent', 'at-most-once']),
  /** The server's tool timeout. */
  timeoutMs: z.number().int().positive(),
});
export type DynamicToolRecord = z.infer<typeof DynamicToolRecord>;

/** Everything a thread needs to run a turn. Stored in SessionWorkflow state. */
export const SessionSettings = z.object({
  cwd: z.string().min(1),
  model: z.string().min(1),
  provider: ProviderSettings,
  reasoningEffort: ReasoningEffort.nullable(),
  reasoningSummary: ReasoningSummary,
  approvalPolicy: ApprovalPolicy,
  sandboxMode: SandboxMode,
  /** Whether sandboxed tool processes may use the network (absent: false). Ignored by danger-full-access. */
  networkAccess: z.boolean().optional(),
  /** Absolute paths writable besides the workspace under workspace-write (`sandbox_workspace_write.writable_roots`; absent: none). */
  writableRoots: z.array(z.string().min(1)).optional(),
  /** How AGENTS.md files are found (absent: Codex's defaults, no global file); see src/prompt/agents-md.ts. */
  projectDocs: z
    .object({
      /** `project_doc_max_bytes`: the budget of the project docs (the global file is not counted); 0 turns them off. */
      maxBytes: z.number().int().nonnegative(),
      /** `project_doc_fallback_filenames`: names tried after AGENTS.override.md and AGENTS.md in each directory. */
      fallbackFilenames: z.array(z.string().min(1)),
      /** The Unroll home whose AGENTS.override.md or AGENTS.md is the global instructions (on the thread's host). */
      globalDir: z.string().min(1).nullable(),
    })
    .optional(),
  /** Default shell command timeout when the model gives none. */
  shellTimeoutMs: z.number().int().positive(),
  /** `[unroll] command_tool`: the command tool a new thread gets (absent: by model; src/tools/unified-exec/choice.ts). */
  commandTool: z.enum(['exec_command', 'shell']).optional(),
  /**
   * Task queue of the host that has the workspace. Threads with a `host` pin have it
   * equal to the pin's queue; older threads without a pin run their tools here.
   */
  toolTaskQueue: z.string().min(1),
  /** The host the thread is pinned to (src/shared/hosts.ts); absent in threads from before pins. */
  host: z.object({ id: z.string().regex(HOST_ID), taskQueue: z.string().min(1) }).optional(),
  timings: ActivityTimings,
  context: ContextSettings,
  /** How long an approval may wait before it counts as denied (absent: forever). */
  approvalTimeoutMs: z.number().int().positive().optional(),
  /** Replaces the built-in base instructions for this thread (e.g. a fork with other instructions). */
  baseInstructions: z.string().min(1).optional(),
  /**
   * The id of the transcript store the thread lives in (set by the client that starts or
   * forks it); workers on another store refuse its activities. Absent on older threads.
   */
  storeId: z.string().min(1).optional(),
  /** That store's spec with its password redacted, for messages. */
  storeDescription: z.string().min(1).optional(),
  /**
   * Host failover (src/workflows/workspace.ts): seconds a workspace activity may wait for
   * a worker on the pinned host before the thread is moved to a live one, if the host
   * really has no worker left; 0 disables. Recorded at thread start; absent on threads
   * from before failover, which never move.
   */
  failoverAfter: z.number().int().nonnegative().max(MAX_FAILOVER_AFTER_S).optional(),
  /** Workspace checkpoints (src/checkpoints); absent on older threads, which then use the defaults. */
  checkpoints: CheckpointSettings.optional(),
  /**
   * Hash of the environment the thread's tools run with, recorded in the store by the
   * client that started it (src/tools/thread-environment.ts). Absent: the worker's own.
   */
  toolEnvironment: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /**
   * Whether the server has Unroll's search attributes registered (src/shared/search-attributes.ts),
   * asked by the client at thread start: the session sets them only then. Absent: not set.
   */
  searchAttributes: z.boolean().optional(),
  /**
   * The thread's tools, fixed at its start (src/tools/thread-tools.ts): their names and the
   * hash of the stored spec array. Absent on older threads, which keep shell, apply_patch
   * and update_plan.
   */
  tools: z
    .object({
      names: z.array(z.string().min(1)),
      specs: z.string().regex(/^[0-9a-f]{64}$/),
      /** The tools found at thread start (MCP), by name; absent until they are listed (or when the thread has no MCP servers). */
      dynamic: z.record(z.string(), DynamicToolRecord).optional(),
    })
    .optional(),
  /**
   * Store hash of the thread's MCP servers (src/mcp/server-spec.ts), recorded by the client
   * that started it; the session lists their tools on the thread's host before the first
   * turn. Absent: no MCP servers.
   */
  mcpServers: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /**
   * `--output-schema`: the store hash of a JSON Schema the model's final answer must match,
   * sent as the request's strict `text.format` (as Codex sends it). A hash, so the schema
   * stays out of Temporal history; absent: free text.
   */
  outputSchema: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /**
   * The hosted `web_search` tool, as config.toml's `web_search` sets it (Codex's values):
   * `cached` (indexed results only), `live` (the open web) or `disabled`. Read when the
   * thread starts and its tool list is recorded (src/tools/web-search.ts); absent: disabled.
   */
  webSearch: WebSearchMode.optional(),
});
export type SessionSettings = z.infer<typeof SessionSettings>;
