/**
 * The tools of the user's MCP servers (`[mcp_servers.*]`), as one dynamic tool kind: the
 * session lists them on the thread's host at thread start (src/activities/mcp.ts) and
 * records each under its Codex name (`mcp__<server>__<tool>`, src/mcp/naming.ts); this
 * module turns a record into a tool module.
 *
 * - Approval: `ask` under untrusted and on-request (any server may do anything), unless
 *   the config marks the tool safe (`[mcp_servers.<s>.tools.<t>] approval_mode = "approve"`).
 * - Side effects: at most once (a crash retry reports the call as interrupted) unless the
 *   config marks the tool idempotent (`idempotent = true`).
 * - Display: Codex's `mcp_tool_call` item (server, tool, arguments, result or error,
 *   status) and the human line `mcp server/tool(arguments)`.
 */
import { z } from 'zod';
import type { DynamicToolKind, DynamicToolRecord, ToolModule } from './contract';
import type { ExecItemKind, McpToolCallExecItem, StartedCall, ToolDisplay } from './display';
import type { ToolResult } from './types';

/** Every MCP tool name starts so (Codex's qualified names). */
export const MCP_TOOL_PREFIX = 'mcp__';

/** Arguments of an MCP tool: a JSON object; the server checks it against its own schema. */
const McpArguments = z.record(z.string(), z.unknown());
type McpArguments = z.infer<typeof McpArguments>;

const MAX_ARGUMENTS_SHOWN = 200;

/** `mcp server/tool(arguments)` and how it ended (`ok`, or what went wrong). */
export const mcpToolCallKind: ExecItemKind<McpToolCallExecItem> = {
  type: 'mcp_tool_call',
  humanCompleted(item, paint) {
    const call = `${paint('36', 'mcp')} ${item.server}/${item.tool}(${clip(JSON.stringify(item.arguments ?? {}), MAX_ARGUMENTS_SHOWN)})`;
    if (item.status === 'completed') return [call, `  ${paint('32', 'ok')}`];
    return [call, paint('31', `  failed: ${item.error?.message ?? 'the tool reported an error'}`)];
  },
};

/** The summary of an MCP call (Temporal UI, approvals): `mcp: server/tool`. Server names have no `/`. */
function summaryOf(record: Pick<DynamicToolRecord, 'server' | 'tool'>): string {
  return `mcp: ${record.server}/${record.tool}`;
}

/** Server and tool back from a summary (displays see only it when a call starts). */
function fromSummary(summary: string | undefined): { server: string; tool: string } {
  const rest = summary?.startsWith('mcp: ') ? summary.slice(5) : '';
  const slash = rest.indexOf('/');
  return slash < 0 ? { server: '', tool: rest } : { server: rest.slice(0, slash), tool: rest.slice(slash + 1) };
}

/** Display of MCP calls: one mcp_tool_call item, started and completed. */
export const mcpToolDisplay: ToolDisplay = {
  kinds: [mcpToolCallKind],
  async started(call: StartedCall, id) {
    const { server, tool } = fromSummary(call.summary);
    return { id, type: 'mcp_tool_call', server, tool, arguments: (await call.arguments?.()) ?? null, result: null, error: null, status: 'in_progress' };
  },
  async completed(call, id) {
    const meta = call.metadata;
    const names = typeof meta.server === 'string' && typeof meta.tool === 'string' ? { server: meta.server, tool: meta.tool } : fromSummary(call.summary);
    const args = (await call.arguments?.()) ?? null;
    const item: McpToolCallExecItem = { id, type: 'mcp_tool_call', ...names, arguments: args, result: null, error: null, status: call.success ? 'completed' : 'failed' };
    if (typeof meta.result === 'string' && call.value) {
      const stored = (await call.value(meta.result)) as { content?: unknown[]; structured_content?: unknown };
      item.result = { content: stored.content ?? [], structured_content: stored.structured_content ?? null };
    } else {
      item.error = { message: typeof meta.error === 'string' ? meta.error : await call.output() };
    }
    return [item];
  },
};

/** The module of one recorded MCP tool. */
function mcpToolModule(name: string, record: DynamicToolRecord): ToolModule<McpArguments> {
  return {
    name,
    spec: () => {
      // Its spec is the one listed at thread start, read from the thread's record.
      throw new TypeError(`the spec of MCP tool ${name} is in the thread's recorded tool list, not in the registry`);
    },
    parameters: McpArguments,
    parallelSafe: false,
    sideEffects: record.sideEffects,
    describe: () => ({ summary: summaryOf(record), approval: record.approval, changesFiles: record.approval !== 'safe', timeoutMs: record.timeoutMs }),
    display: mcpToolDisplay,
    async run(args, ctx, options): Promise<ToolResult> {
      if (!ctx.mcp) throw new TypeError(`MCP tool ${name} needs ctx.mcp (the tool activity gives it)`);
      return ctx.mcp.call(record, args, ctx, options?.model);
    },
  };
}

/** The dynamic kind of MCP tools, for the registry. */
export const mcpToolKind: DynamicToolKind = {
  source: 'mcp',
  matches: (name) => name.startsWith(MCP_TOOL_PREFIX),
  display: mcpToolDisplay,
  module: (name, record) => mcpToolModule(name, record),
};

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
