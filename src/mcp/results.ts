/**
 * An MCP tool's result as the model gets it, as Codex 0.171 gives it
 * (`CallToolResult::into_function_call_output_payload`): structured content, when the
 * server sends it, as its JSON text; else, when the content holds an image, content parts
 * (text as `input_text`, images as `input_image`, anything else as its JSON text); else
 * the content array as JSON text. Images go to the store by hash (`putBlob`), never into
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

/** The result of an answered call. */
export async function mcpToolResult(server: string, tool: string, result: CallToolResult, store: ResultStore): Promise<ToolResult> {
  const content = Array.isArray(result.content) ? (result.content as unknown[]) : [];
  const structured = result.structuredContent ?? null;
  const success = result.isError !== true;
  const stored = await store.putValue({ content, structured_content: structured });
  const metadata = { server, tool, result: stored, ...(success ? {} : { isError: true }) };
  if (structured !== null) return { output: JSON.stringify(structured), success, metadata };
  if (!content.some(isImage)) return { output: JSON.stringify(content), success, metadata };
  const parts: ToolOutputContent[] = [];
  for (const part of content) {
    if (isText(part)) parts.push({ type: 'input_text', text: part.text });
    else if (isImage(part)) parts.push(await storedImage(part, store));
    else parts.push({ type: 'input_text', text: JSON.stringify(part) });
  }
  const output = parts.map((p) => (p.type === 'input_text' ? p.text : `[image ${String(p.mime_type ?? '')}]`)).join('\n');
  return { output, success, metadata, content: parts };
}

/** The result of a call the server never answered (it died, timed out, refused): Codex's error result. */
export function mcpToolError(server: string, tool: string, message: string): ToolResult {
  return { output: JSON.stringify([{ type: 'text', text: message }]), success: false, metadata: { server, tool, error: message } };
}

async function storedImage(part: { data: string; mimeType?: string }, store: ResultStore): Promise<ToolOutputContent> {
  const dataUrl = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(part.data);
  const mime = dataUrl?.[1] ?? part.mimeType ?? 'application/octet-stream';
  const bytes = Buffer.from(dataUrl ? dataUrl[3] : part.data, 'base64');
  return { type: 'input_image', image_blob: await store.putBlob(bytes), mime_type: mime };
}

function isText(part: unknown): part is { type: 'text'; text: string } {
  return typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string';
}

function isImage(part: unknown): part is { type: 'image'; data: string; mimeType?: string } {
  return typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'image' && typeof (part as { data?: unknown }).data === 'string';
}
