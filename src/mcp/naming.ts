/**
 * MCP tool names as Codex 0.171 offers them to the model: `mcp__<server>__<tool>`, every
 * character outside `[a-zA-Z0-9_-]` (the Responses API's) replaced by `_`, and a name
 * over 64 characters cut to its first 24 and the SHA-1 of the raw name (40 hex digits),
 * so it stays unique and stable. A tool whose raw or final name repeats an earlier one is
 * skipped, as in Codex.
 */
import { createHash } from 'node:crypto';

const DELIMITER = '__';
const MAX_TOOL_NAME_LENGTH = 64;

/** One tool of one server, before naming. */
export interface ServerTool {
  readonly server: string;
  readonly tool: string;
}

/** The model-facing name of each tool (in input order; duplicates left out). */
export function qualifyToolNames<T extends ServerTool>(tools: readonly T[]): Array<T & { readonly name: string }> {
  const raw = new Set<string>();
  const used = new Set<string>();
  const named: Array<T & { readonly name: string }> = [];
  for (const tool of tools) {
    const rawName = `mcp${DELIMITER}${tool.server}${DELIMITER}${tool.tool}`;
    if (raw.has(rawName)) continue;
    raw.add(rawName);
    let name = rawName.replace(/[^a-zA-Z0-9_-]/g, '_') || '_';
    if (name.length > MAX_TOOL_NAME_LENGTH) {
      const sha1 = createHash('sha1').update(rawName, 'utf8').digest('hex');
      name = `${name.slice(0, MAX_TOOL_NAME_LENGTH - sha1.length)}${sha1}`;
    }
    if (used.has(name)) continue;
    used.add(name);
    named.push({ ...tool, name });
  }
  return named;
}
