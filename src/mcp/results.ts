/**
 * An MCP tool's result as the model gets it, as Codex 0.171 gives it (captured from
 * `codex exec`): a `Wall time: <s> seconds\nOutput:` header, then structured content,
 * when the server sends it, as its JSON text (one string); else content parts (the
 * header, text as `input_text`, images as `input_image`, anything else as its JSON
 * text). A call the server never answered gets the header and the error's text. Images go to the store by hash (`putBlob`), never into
 * the item. The whole result (`{content, structured_content}`, as `exec --json` shows it)
 * is kept in the store too; the call's metadata names it by hash.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolOutputContent, ToolResult } from '../tools/types';

/** What the metadata of an MCP call holds (small: Temporal history carries it). */
export interface McpCallMetadata {
  readonly server: string;
  readonly tool: string;
  /** Store hash of `{content, structured_content}`, when the server answered. */
  readonly result?: string;
  /** What went wrong, when the server did not answer. */
  readonly error?: string;
}

/** Where the pieces of a result are stored. */
export interface ResultStore {
  putBlob(data: Buffer): Promise<string>;
  putValue(value: unknown): Promise<string>;
}

/** How a call went, besides its result: its wall time, and the detail images are sent at. */
export interface CallFacts {
  readonly wallMs: number;
  readonly detail: 'high' | 'original';
}

/** Codex's first line(s) of every MCP output: `Wall time: 0.0098 seconds\nOutput:`. */
export function wallTimeHeader(wallMs: number): string {
  return `Wall time: ${(wallMs / 1000).toFixed(4)} seconds\nOutput:`;
}

/** The result of an answered call. */
export async function mcpToolResult(server: string, tool: string, result: CallToolResult, store: ResultStore, facts: CallFacts): Promise<ToolResult> {
  const content = Array.isArray(result.content) ? (result.content as unknown[]) : [];
  const structured = result.structuredContent ?? null;
  const success = result.isError !== true;
  const stored = await store.putValue({ content, structured_content: structured });
  const metadata = { server, tool, result: stored, ...(success ? {} : { isError: true }) };
  const header = wallTimeHeader(facts.wallMs);
  if (structured !== null) return { output: `${header}\n${JSON.stringify(structured)}`, success, metadata };
  const parts: ToolOutputContent[] = [{ type: 'input_text', text: header }];
  for (const part of content) {
    if (isText(part)) parts.push({ type: 'input_text', text: part.text });
    else if (isImage(part)) parts.push(await storedImage(part, store, facts.detail));
    else parts.push({ type: 'input_text', text: JSON.stringify(part) });
  }
  return { output: outputText(parts), success, metadata, content: parts };
}

/** The result of a call the server never answered (it died, timed out, refused), in the shape of Codex's. */
export function mcpToolError(server: string, tool: string, message: string, wallMs: number): ToolResult {
  const parts: ToolOutputContent[] = [{ type: 'input_text', text: wallTimeHeader(wallMs) }, { type: 'input_text', text: message }];
  return { output: outputText(parts), success: false, metadata: { server, tool, error: message }, content: parts };
}

/** The parts as one text, for displays. */
function outputText(parts: readonly ToolOutputContent[]): string {
  return parts.map((p) => (p.type === 'input_text' ? p.text : `[image ${String(p.mime_type ?? '')}]`)).join('\n');
}

async function storedImage(part: { data: string; mimeType?: string }, store: ResultStore, detail: CallFacts['detail']): Promise<ToolOutputContent> {
  const dataUrl = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(part.data);
  const mime = dataUrl?.[1] ?? part.mimeType ?? 'application/octet-stream';
  const bytes = Buffer.from(dataUrl ? dataUrl[3] : part.data, 'base64');
  return { type: 'input_image', image_blob: await store.putBlob(bytes), mime_type: mime, detail };
}

function isText(part: unknown): part is { type: 'text'; text: string } {
  return typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string';
}

function isImage(part: unknown): part is { type: 'image'; data: string; mimeType?: string } {
  return typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'image' && typeof (part as { data?: unknown }).data === 'string';
}
