/**
 * Builders for the scripted Responses API server: output items the "model" returns,
 * the script steps that say how a request is answered (a normal stream, an HTTP error,
 * a hang, a cut connection, ...), and the expansion of output items into the SSE events
 * the real API streams for them.
 *
 * Item and event shapes follow the `openai` SDK types (`resources/responses`), so what a
 * test scripts here is what production code sees from the real API. Ids are numbered
 * from one counter per module instance (`msg_1`, `fc_2`/`call_2`, `rs_3`, ...), which
 * makes them unique within a test file and stable between runs.
 */
import type {
  ResponseCustomToolCall,
  ResponseFunctionToolCall,
  ResponseFunctionWebSearch,
  ResponseOutputMessage,
  ResponseReasoningItem,
  ResponseUsage,
} from 'openai/resources/responses/responses';

/** One item of a response's `output`: an assistant message, a tool call or reasoning. */
export type OutputItem =
  | ResponseOutputMessage
  | ResponseFunctionToolCall
  | ResponseCustomToolCall
  | ResponseReasoningItem
  | ResponseFunctionWebSearch;

/** Token usage as reported in `response.completed` (`response.usage`). */
export type Usage = ResponseUsage;

/**
 * How the server answers one `POST /v1/responses`. `response` is the normal case; the
 * other kinds are faults the agent must survive (see each member).
 */
export type ScriptStep =
  /** A complete stream ending in `response.completed`; `chunkDelayMs` spaces the events out. */
  | { kind: 'response'; output: OutputItem[]; usage?: Partial<Usage>; chunkDelayMs?: number }
  /** A non-streamed HTTP error with a JSON body (default: an OpenAI-style error object). */
  | { kind: 'http-error'; status: number; body?: unknown; headers?: Record<string, string> }
  /** `response.created` and `response.in_progress`, then silence until the client leaves or the server closes. */
  | { kind: 'hang' }
  /** Streams `output`, but destroys the socket after `afterEvents` events (default 3). */
  | { kind: 'cut'; afterEvents?: number; output?: OutputItem[] }
  /** Streams every item of `output`, then ends the body without `response.completed`. */
  | { kind: 'no-completed'; output: OutputItem[] }
  /** `response.created`, then an event whose `data:` line is not JSON, then the end. */
  | { kind: 'malformed' }
  /** Streams `output` (default none), then `response.failed` carrying `error`. */
  | { kind: 'response-failed'; error: { code: string; message: string }; output?: OutputItem[] }
  /** `response.created`, then an `error` event (what the API sends for mid-stream failures). */
  | { kind: 'stream-error'; code: string; message: string };

/** One SSE event before the server numbers it: `type` plus the event's own fields. */
export interface StreamEvent {
  readonly type: string;
  readonly [field: string]: unknown;
}

let lastId = 0;
function nextId(): number {
  lastId += 1;
  return lastId;
}

/** An assistant message with a single `output_text` part, as the API returns it. */
export function assistantMessage(text: string): ResponseOutputMessage {
  return {
    type: 'message',
    id: `msg_${nextId()}`,
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text, annotations: [] }],
  };
}

/**
 * A `function_call` item. `args` is JSON-stringified unless it is already a string (so a
 * test can send deliberately malformed arguments); `callId` defaults to `call_<n>`.
 */
export function functionCall(name: string, args: unknown, callId?: string): ResponseFunctionToolCall {
  const n = nextId();
  return {
    type: 'function_call',
    id: `fc_${n}`,
    call_id: callId ?? `call_${n}`,
    name,
    arguments: typeof args === 'string' ? args : JSON.stringify(args),
    status: 'completed',
  };
}

/** A `custom_tool_call` item (freeform tool input); `callId` defaults to `call_<n>`. */
export function customToolCall(name: string, input: string, callId?: string): ResponseCustomToolCall {
  const n = nextId();
  return { type: 'custom_tool_call', id: `ctc_${n}`, call_id: callId ?? `call_${n}`, name, input };
}

/** A call of the `shell` tool: `{command, workdir?, timeout_ms?}` as its arguments. */
export function shellCall(
  command: string[] | string,
  opts: { workdir?: string; timeout_ms?: number; callId?: string } = {},
): ResponseFunctionToolCall {
  const { callId, ...rest } = opts;
  return functionCall('shell', { command, ...rest }, callId);
}

/** A call of the `apply_patch` tool with the patch text as `{input}`. */
export function applyPatchCall(patch: string, callId?: string): ResponseFunctionToolCall {
  return functionCall('apply_patch', { input: patch }, callId);
}

/** One step of an `update_plan` call. */
export interface PlanStep {
  step: string;
  status: 'pending' | 'in_progress' | 'completed';
}

/** A call of the `update_plan` tool: `{plan, explanation?}` as its arguments. */
export function updatePlanCall(plan: PlanStep[], explanation?: string, callId?: string): ResponseFunctionToolCall {
  return functionCall('update_plan', explanation === undefined ? { plan } : { explanation, plan }, callId);
}

/** A reasoning item with one summary part and, optionally, encrypted content. */
export function reasoning(summary: string, encryptedContent?: string): ResponseReasoningItem {
  return {
    type: 'reasoning',
    id: `rs_${nextId()}`,
    summary: [{ type: 'summary_text', text: summary }],
    ...(encryptedContent === undefined ? {} : { encrypted_content: encryptedContent }),
  };
}

/** A hosted web search the provider ran (`web_search_call`), by default a completed search for `query`. */
export function webSearchCall(
  action: ResponseFunctionWebSearch['action'],
  status: ResponseFunctionWebSearch['status'] = 'completed',
): ResponseFunctionWebSearch {
  return { type: 'web_search_call', id: `ws_${nextId()}`, status, action };
}

/** A normal streamed response with the given items; `usage` overrides the estimate. */
export function respond(
  output: OutputItem[] | OutputItem,
  options: { usage?: Partial<Usage>; chunkDelayMs?: number } = {},
): ScriptStep {
  return { kind: 'response', output: Array.isArray(output) ? output : [output], ...options };
}

/**
 * An HTTP error. Without `body`, sends `{error: {message, type, code, param}}` as the
 * API does, so the SDK raises the matching `APIError` subclass with a readable message.
 */
export function httpError(status: number, body?: unknown, headers?: Record<string, string>): ScriptStep {
  return {
    kind: 'http-error',
    status,
    body: body ?? { error: { message: `scripted HTTP ${status}`, type: 'server_error', code: null, param: null } },
    ...(headers === undefined ? {} : { headers }),
  };
}

/** A 429 with `retry-after` (seconds) and the API's rate-limit error body. */
export function rateLimited(retryAfterSeconds: number, message = 'Rate limit reached'): ScriptStep {
  const body = { error: { message, type: 'requests', code: 'rate_limit_exceeded', param: null } };
  return httpError(429, body, { 'retry-after': String(retryAfterSeconds) });
}

/** A 400 `invalid_request_error` with the given message and code. */
export function badRequest(message: string, code: string | null = null): ScriptStep {
  return httpError(400, { error: { message, type: 'invalid_request_error', code, param: null } });
}

/** A stream that starts and then never progresses (see {@link ScriptStep} `hang`). */
export function hang(): ScriptStep {
  return { kind: 'hang' };
}

/** A stream whose connection is destroyed after `afterEvents` events. */
export function cut(afterEvents?: number, output?: OutputItem[]): ScriptStep {
  return { kind: 'cut', ...(afterEvents === undefined ? {} : { afterEvents }), ...(output ? { output } : {}) };
}

/** A stream that delivers its items but never sends `response.completed`. */
export function noCompleted(output: OutputItem[] | OutputItem): ScriptStep {
  return { kind: 'no-completed', output: Array.isArray(output) ? output : [output] };
}

/** A stream with a `data:` line that is not JSON. */
export function malformed(): ScriptStep {
  return { kind: 'malformed' };
}

/** A stream that ends in `response.failed`, e.g. code `context_length_exceeded`. */
export function responseFailed(code: string, message: string, output: OutputItem[] = []): ScriptStep {
  return { kind: 'response-failed', error: { code, message }, output };
}

/** A stream that ends in a top-level `error` event. */
export function streamError(code: string, message: string): ScriptStep {
  return { kind: 'stream-error', code, message };
}

/**
 * The usage reported for a response: roughly four characters per token of the JSON
 * input and output, unless `overrides` say otherwise; `total_tokens` is the sum unless
 * given.
 */
export function estimateUsage(input: unknown, output: unknown, overrides: Partial<Usage> = {}): Usage {
  const inputTokens = overrides.input_tokens ?? Math.ceil((JSON.stringify(input) ?? '').length / 4);
  const outputTokens = overrides.output_tokens ?? Math.ceil((JSON.stringify(output) ?? '').length / 4);
  return {
    input_tokens: inputTokens,
    input_tokens_details: overrides.input_tokens_details ?? { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: overrides.output_tokens_details ?? { reasoning_tokens: 0 },
    total_tokens: overrides.total_tokens ?? inputTokens + outputTokens,
  };
}

/** Splits text into at most `parts` pieces on code-point boundaries (none for ''). */
export function chunkText(text: string, parts = 3): string[] {
  const points = Array.from(text);
  const size = Math.max(1, Math.ceil(points.length / parts));
  const chunks: string[] = [];
  for (let i = 0; i < points.length; i += size) chunks.push(points.slice(i, i + size).join(''));
  return chunks;
}

/**
 * The events the API streams for one output item at `outputIndex`, from
 * `response.output_item.added` to `response.output_item.done`, with the text, arguments
 * or summary delivered as deltas in between. Unknown item types get only added/done.
 */
export function itemEvents(item: OutputItem, outputIndex: number): StreamEvent[] {
  const base = { output_index: outputIndex };
  const itemId = item.id ?? '';
  const added = (partial: object): StreamEvent => ({ type: 'response.output_item.added', ...base, item: partial });
  const done: StreamEvent = { type: 'response.output_item.done', ...base, item };
  switch (item.type) {
    case 'message':
      return [
        added({ ...item, status: 'in_progress', content: [] }),
        ...item.content.flatMap((part, contentIndex) => messagePartEvents(part, itemId, outputIndex, contentIndex)),
        done,
      ];
    case 'function_call':
      return [
        added({ ...item, status: 'in_progress', arguments: '' }),
        ...chunkText(item.arguments).map((delta) => ({
          type: 'response.function_call_arguments.delta', item_id: itemId, ...base, delta,
        })),
        { type: 'response.function_call_arguments.done', item_id: itemId, ...base, name: item.name, arguments: item.arguments },
        done,
      ];
    case 'custom_tool_call':
      return [
        added({ ...item, input: '' }),
        ...chunkText(item.input).map((delta) => ({
          type: 'response.custom_tool_call_input.delta', item_id: itemId, ...base, delta,
        })),
        { type: 'response.custom_tool_call_input.done', item_id: itemId, ...base, input: item.input },
        done,
      ];
    case 'reasoning':
      return [
        added({ type: 'reasoning', id: item.id, summary: [] }),
        ...item.summary.flatMap((part, summaryIndex) => summaryPartEvents(part.text, itemId, outputIndex, summaryIndex)),
        done,
      ];
    case 'web_search_call':
      // As the API streams a hosted search: added in progress, the search's own events, done.
      return [
        added({ type: 'web_search_call', id: item.id, status: 'in_progress' }),
        ...(['in_progress', 'searching', 'completed'] as const).map((phase) => ({ type: `response.web_search_call.${phase}`, item_id: itemId, ...base })),
        done,
      ];
    default:
      return [added(item), done];
  }
}

function messagePartEvents(
  part: ResponseOutputMessage['content'][number],
  itemId: string,
  outputIndex: number,
  contentIndex: number,
): StreamEvent[] {
  const at = { item_id: itemId, output_index: outputIndex, content_index: contentIndex };
  if (part.type !== 'output_text') {
    return [
      { type: 'response.content_part.added', ...at, part },
      { type: 'response.content_part.done', ...at, part },
    ];
  }
  return [
    { type: 'response.content_part.added', ...at, part: { ...part, text: '' } },
    ...chunkText(part.text).map((delta) => ({ type: 'response.output_text.delta', ...at, delta, logprobs: [] })),
    { type: 'response.output_text.done', ...at, text: part.text, logprobs: [] },
    { type: 'response.content_part.done', ...at, part },
  ];
}

function summaryPartEvents(text: string, itemId: string, outputIndex: number, summaryIndex: number): StreamEvent[] {
  const at = { item_id: itemId, output_index: outputIndex, summary_index: summaryIndex };
  return [
    { type: 'response.reasoning_summary_part.added', ...at, part: { type: 'summary_text', text: '' } },
    ...chunkText(text).map((delta) => ({ type: 'response.reasoning_summary_text.delta', ...at, delta })),
    { type: 'response.reasoning_summary_text.done', ...at, text },
    { type: 'response.reasoning_summary_part.done', ...at, part: { type: 'summary_text', text } },
  ];
}

/**
 * The `response` object carried by `response.created`, `.in_progress`, `.completed` and
 * `.failed`. Request settings the API echoes back (model, instructions, tools,
 * prompt_cache_key, ...) are copied from `request`.
 */
export function responseEnvelope(
  id: string,
  request: Record<string, unknown>,
  state: { status: 'in_progress' | 'completed' | 'failed'; output: OutputItem[]; usage: Usage | null; error?: { code: string; message: string } },
): Record<string, unknown> {
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: state.status,
    error: state.error ?? null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: request.model,
    output: state.output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    prompt_cache_key: request.prompt_cache_key ?? null,
    reasoning: request.reasoning ?? null,
    store: false,
    temperature: null,
    text: { format: { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: null,
    truncation: 'disabled',
    usage: state.usage,
    metadata: {},
  };
}
