/**
 * zod schemas for every Responses API item the agent loop stores, sends and receives.
 * They are the single source of truth for the wire shapes: `type X = z.infer<…>`.
 * Output items are parsed loosely (unknown fields are kept) so that what the provider
 * sent, such as encrypted reasoning, round-trips byte for byte.
 */
import { z } from 'zod';

export const InputText = z.looseObject({ type: z.literal('input_text'), text: z.string() });
export const OutputText = z.looseObject({ type: z.literal('output_text'), text: z.string() });
export const Refusal = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });

/**
 * An image in a tool's output or a user message. Stored by reference: `image_blob` names the image's bytes
 * in the store (`TranscriptStore.putBlob`), so the item stays small and the image is kept
 * once; the request gets it as a `data:` URL in `image_url` (src/activities/model-client.ts).
 */
export const InputImage = z.looseObject({
  type: z.literal('input_image'),
  image_blob: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  mime_type: z.string().optional(),
  image_url: z.string().optional(),
  detail: z.enum(['auto', 'low', 'high', 'original']).optional(),
});
export type InputImage = z.infer<typeof InputImage>;

/** A part of a message: text, a refusal, or (in a user message, `exec -i`) an image. */
export const ContentPart = z.union([InputText, OutputText, Refusal, InputImage]);
export type ContentPart = z.infer<typeof ContentPart>;

/** A chat message: user input, developer instructions, or the assistant's answer. */
export const MessageItem = z.looseObject({
  type: z.literal('message'),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.array(ContentPart),
  id: z.string().optional(),
  status: z.string().optional(),
});
export type MessageItem = z.infer<typeof MessageItem>;

/** Model reasoning: a readable summary plus the opaque encrypted state to send back. */
export const ReasoningItem = z.looseObject({
  type: z.literal('reasoning'),
  id: z.string().optional(),
  summary: z.array(z.looseObject({ type: z.string(), text: z.string() })),
  encrypted_content: z.string().nullish(),
});
export type ReasoningItem = z.infer<typeof ReasoningItem>;

/** A function tool call: `arguments` is the raw JSON text the model produced. */
export const FunctionCallItem = z.looseObject({
  type: z.literal('function_call'),
  call_id: z.string().min(1),
  name: z.string(),
  arguments: z.string(),
  id: z.string().optional(),
  status: z.string().optional(),
});
export type FunctionCallItem = z.infer<typeof FunctionCallItem>;

/** A tool output: text, or content parts (text and images, e.g. `view_image`). */
export const ToolOutput = z.union([z.string(), z.array(z.union([InputText, InputImage]))]);
export type ToolOutput = z.infer<typeof ToolOutput>;

/** A tool output as text, for displays: images as `[image]`. */
export function toolOutputText(output: ToolOutput): string {
  if (typeof output === 'string') return output;
  return output.map((part) => (part.type === 'input_text' ? part.text : '[image]')).join('\n');
}

/** The output of a function tool call, paired with its call by `call_id`. */
export const FunctionCallOutputItem = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: ToolOutput,
});
export type FunctionCallOutputItem = z.infer<typeof FunctionCallOutputItem>;

/** A free-form (custom) tool call: `input` is raw text, not JSON. */
export const CustomToolCallItem = z.looseObject({
  type: z.literal('custom_tool_call'),
  call_id: z.string().min(1),
  name: z.string(),
  input: z.string(),
  id: z.string().optional(),
  status: z.string().optional(),
});
export type CustomToolCallItem = z.infer<typeof CustomToolCallItem>;

/** The output of a custom tool call. */
export const CustomToolCallOutputItem = z.looseObject({
  type: z.literal('custom_tool_call_output'),
  call_id: z.string().min(1),
  output: z.string(),
});
export type CustomToolCallOutputItem = z.infer<typeof CustomToolCallOutputItem>;

/**
 * A hosted web search the provider ran while answering (the `web_search` tool): what it
 * did (`action`: a search, opening a page, finding text in one) and its status. Kept in
 * the transcript and sent back on later requests, with its id, as Codex sends it.
 */
export const WebSearchCallItem = z.looseObject({
  type: z.literal('web_search_call'),
  id: z.string().optional(),
  status: z.string().optional(),
  action: z.looseObject({ type: z.string() }).optional(),
});
export type WebSearchCallItem = z.infer<typeof WebSearchCallItem>;

/** Opaque compacted history returned by a provider's compaction endpoint. */
export const CompactionItem = z.looseObject({
  type: z.literal('compaction'),
  encrypted_content: z.string(),
  id: z.string().optional(),
});
export type CompactionItem = z.infer<typeof CompactionItem>;

/** Any conversation item the transcript can hold. */
export const ConversationItem = z.discriminatedUnion('type', [
  MessageItem,
  ReasoningItem,
  FunctionCallItem,
  FunctionCallOutputItem,
  CustomToolCallItem,
  CustomToolCallOutputItem,
  CompactionItem,
  WebSearchCallItem,
]);
export type ConversationItem = z.infer<typeof ConversationItem>;

export type ToolCallItem = FunctionCallItem | CustomToolCallItem;
export type ToolOutputItem = FunctionCallOutputItem | CustomToolCallOutputItem;

/** True for items that ask for a tool to be run. */
export function isToolCall(item: ConversationItem): item is ToolCallItem {
  return item.type === 'function_call' || item.type === 'custom_tool_call';
}

/** True for items that carry a tool's output. */
export function isToolOutput(item: ConversationItem): item is ToolOutputItem {
  return item.type === 'function_call_output' || item.type === 'custom_tool_call_output';
}

/** Builds a message item with a single text part of the right kind for its role. */
export function textMessage(role: MessageItem['role'], text: string): MessageItem {
  const type = role === 'assistant' ? 'output_text' : 'input_text';
  return { type: 'message', role, content: [{ type, text }] };
}

/** The concatenated text of a message's text parts (images have none). */
export function messageText(item: MessageItem): string {
  return item.content.map((part) => (part.type === 'input_image' ? '' : 'text' in part ? part.text : part.refusal)).join('');
}

/** Token usage of one response, or a sum of several. */
export const Usage = z.object({
  inputTokens: z.number().int().nonnegative(),
  cachedInputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  reasoningOutputTokens: z.number().int().nonnegative(),
  /**
   * Input tokens written to the provider's prompt cache (`input_tokens_details.cache_write_tokens`);
   * absent in usage recorded before it was kept.
   */
  cacheWriteInputTokens: z.number().int().nonnegative().optional(),
});
export type Usage = z.infer<typeof Usage>;
