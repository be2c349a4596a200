/**
 * The kinds of fault a chaos run injects, with the labels the report prints. Kept in one
 * place so the plan, the scripted model, the runner and the report agree on names.
 */

/** Faults of the model provider, served instead of the normal response to one request. */
export const PROVIDER_FAULTS = [
  'http-429',
  'http-500',
  'http-503',
  'connection-reset',
  'no-completed',
  'stall',
  'malformed-json',
  'malformed-sse',
  'stream-error',
] as const;
/** One provider fault kind. */
export type ProviderFault = (typeof PROVIDER_FAULTS)[number];

/** Faults of the tools: commands that misbehave, placed in the session scripts. */
export const TOOL_FAULTS = ['hanging-command', 'output-50mb', 'binary-output', 'invalid-utf8', 'fork-and-exit'] as const;
/** One tool fault kind. */
export type ToolFault = (typeof TOOL_FAULTS)[number];

/** Faults of the infrastructure: the worker process and the Temporal server. */
export const INFRA_FAULTS = ['worker-sigkill', 'server-restart', 'database-restart'] as const;
/** One infrastructure fault kind. */
export type InfraFault = (typeof INFRA_FAULTS)[number];

/** Any injected fault, as counted in the report. */
export type FaultKind = `provider:${ProviderFault}` | `tool:${ToolFault}` | InfraFault;

/** Every fault kind in report order. */
export const ALL_FAULT_KINDS: readonly FaultKind[] = [
  'worker-sigkill',
  'server-restart',
  'database-restart',
  ...PROVIDER_FAULTS.map((f) => `provider:${f}` as const),
  ...TOOL_FAULTS.map((f) => `tool:${f}` as const),
];

/** What each fault is, for the report. */
export const FAULT_LABELS: Record<FaultKind, string> = {
  'worker-sigkill': 'worker process killed with SIGKILL (a new worker is started)',
  'server-restart': 'Temporal dev server stopped and restarted (SQLite file kept)',
  'database-restart': 'PostgreSQL store stopped and restarted (two-host mode)',
  'provider:http-429': 'provider 429 with Retry-After: 1',
  'provider:http-500': 'provider 500',
  'provider:http-503': 'provider 503',
  'provider:connection-reset': 'connection reset mid-stream',
  'provider:no-completed': 'stream ends without response.completed',
  'provider:stall': 'stream stalls past the idle timeout',
  'provider:malformed-json': 'SSE event whose data is not JSON',
  'provider:malformed-sse': 'a JSON body where an event stream was expected',
  'provider:stream-error': 'error event mid-stream (server_error)',
  'tool:hanging-command': 'command that hangs (killed by its timeout_ms)',
  'tool:output-50mb': 'command that prints 50 MB',
  'tool:binary-output': 'command that prints binary (gzip) output',
  'tool:invalid-utf8': 'command that prints invalid UTF-8',
  'tool:fork-and-exit': 'command that forks children holding its stdout and exits',
};

/** Counts per fault kind, every kind present (zero when not injected). */
export type FaultCounts = Record<FaultKind, number>;

/** A zeroed {@link FaultCounts}. */
export function emptyFaultCounts(): FaultCounts {
  return Object.fromEntries(ALL_FAULT_KINDS.map((k) => [k, 0])) as FaultCounts;
}
