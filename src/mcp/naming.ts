/**
 * MCP tool names as Codex 0.171 offers them to the model: each server's tools in a
 * namespace `mcp__<server>` (a `namespace` entry of `tools`), each tool under its own name
 * with every character outside `[a-zA-Z0-9_-]` (the Responses API's) replaced by `_`.
 * The model calls `{namespace: "mcp__<server>", name: "<tool>"}`; Unroll records and
 * dispatches the call as `mcp__<server>__<tool>` (`callToolName` in src/tools/registry.ts).
 * A tool name over 64 characters is cut to its first 24 and the SHA-1 of the raw name (40
 * hex digits), as Codex shortens qualified names, so it stays unique and stable; a tool
 * whose name repeats an earlier one is skipped, as in Codex.
 */
import { createHash } from 'node:crypto';

const DELIMITER = '__';
const MAX_TOOL_NAME_LENGTH = 64;

/** One tool of one server, before naming. */
export interface ServerTool {
  readonly server: string;
  readonly tool: string;
}

/** The model-facing names of a tool. */
export interface ToolNames {
  /** The namespace of its server's tools: `mcp__<server>`. */
  readonly namespace: string;
  /** Its name within the namespace. */
  readonly function: string;
  /** `<namespace>__<function>`: the name the thread's tool list records. */
  readonly name: string;
}

/** The names of each tool (in input order; duplicates left out). Server names are already `[a-zA-Z0-9_-]+`. */
export function qualifyToolNames<T extends ServerTool>(tools: readonly T[]): Array<T & ToolNames> {
  const used = new Set<string>();
  const named: Array<T & ToolNames> = [];
  for (const tool of tools) {
    const namespace = `mcp${DELIMITER}${sanitize(tool.server)}`;
    let fn = sanitize(tool.tool);
    if (fn.length > MAX_TOOL_NAME_LENGTH) {
      const sha1 = createHash('sha1').update(tool.tool, 'utf8').digest('hex');
      fn = `${fn.slice(0, MAX_TOOL_NAME_LENGTH - sha1.length)}${sha1}`;
    }
    const name = `${namespace}${DELIMITER}${fn}`;
    if (used.has(name)) continue;
    used.add(name);
    named.push({ ...tool, namespace, function: fn, name });
  }
  return named;
}

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_') || '_';
}
