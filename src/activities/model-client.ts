/**
 * Talking to a Responses API: the cached `openai` clients (one per base URL and key,
 * the SDK's own retries off), building a request's `input` from the store, and
 * consuming a streamed response with heartbeats, an idle timeout and cancellation.
 * Used by the inference and compaction activities.
 *
 * The request goes through the SDK (auth, headers, HTTP errors as `APIError`), but the
 * event stream is read by ./sse.ts rather than the SDK's reader, whose time grows with
 * the square of an event's size (see there): a model's 21 MB tool call took minutes.
 */
import OpenAI from 'openai';
import type { ResponseCreateParamsStreaming, ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { SessionSettings } from '../config/settings';
import { normalizeHistory } from '../items/normalize';
import { ConversationItem, type Usage } from '../items/schemas';
import type { TranscriptStore } from '../store/transcript-store';
import { classifyInferenceError, classifyStreamError, missingApiKeyFailure, transientFailure } from './inference-errors';
import { readServerSentEvents } from './sse';

/** Caches one client per provider URL and key. */
export class ModelClients {
  private readonly clients = new Map<string, OpenAI>();

  constructor(private readonly apiKey: (envKey: string) => string | undefined) {}

  /** The client for a thread's provider; throws a non-retryable failure without a key. */
  clientFor(settings: SessionSettings): OpenAI {
    const { provider } = settings;
    const key = provider.envKey ? this.apiKey(provider.envKey) : undefined;
    if (provider.envKey && !key) throw missingApiKeyFailure(provider.envKey, provider.name);
    const cacheKey = `${provider.baseUrl}\u0000${key ?? ''}`;
    let client = this.clients.get(cacheKey);
    if (!client) {
      client = new OpenAI({ apiKey: key ?? 'unused', baseURL: provider.baseUrl, maxRetries: 0, timeout: settings.timings.inferenceStartToCloseMs });
      this.clients.set(cacheKey, client);
    }
    return client;
  }
}

/**
 * Items go back without their ids: with `store: false` the provider cannot resolve them.
 * A `web_search_call` keeps its id, which the API requires of one (and Codex sends).
 */
export function toRequestItem(item: ConversationItem): Record<string, unknown> {
  if (item.type === 'web_search_call') return { ...item };
  const { id: _id, ...rest } = item;
  return rest;
}

/**
 * The exact `input` of a request: the transcript named by `head`, then the `append`
 * items, normalised (every call answered, orphan outputs dropped) and without ids.
 * `unroll show --step` rebuilds what was sent with this same function.
 */
export async function buildRequestInput(store: TranscriptStore, head: string | null, append: readonly string[]): Promise<Record<string, unknown>[]> {
  const history = await store.loadTranscript(head);
  const appended = await Promise.all(append.map((h) => store.getItem(h)));
  return requestItems(store, normalizeHistory([...history.map((s) => s.item), ...appended]));
}

/** Items as a request sends them: without ids (see {@link toRequestItem}), stored images as `data:` URLs. */
export function requestItems(store: TranscriptStore, items: readonly ConversationItem[]): Promise<Record<string, unknown>[]> {
  return Promise.all(items.map((item) => withImages(store, toRequestItem(item))));
}

/**
 * The stored images (`image_blob`, see InputImage) of a tool output or of a user message
 * (`exec -i`) as the `data:` URLs the API takes.
 */
async function withImages(store: TranscriptStore, item: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (item.type === 'function_call_output' && Array.isArray(item.output)) return { ...item, output: await partsWithImages(store, item.output as Array<Record<string, unknown>>) };
  if (item.type === 'message' && Array.isArray(item.content) && (item.content as Array<Record<string, unknown>>).some((p) => p.type === 'input_image')) {
    return { ...item, content: await partsWithImages(store, item.content as Array<Record<string, unknown>>) };
  }
  return item;
}

async function partsWithImages(store: TranscriptStore, parts: Array<Record<string, unknown>>): Promise<Array<Record<string, unknown>>> {
  return Promise.all(
    parts.map(async (part) => {
      if (part.type !== 'input_image' || typeof part.image_blob !== 'string') return part;
      const { image_blob: blob, mime_type: mime, ...rest } = part;
      const data = await store.getBlob(blob, 'store object');
      return { ...rest, image_url: `data:${typeof mime === 'string' ? mime : 'application/octet-stream'};base64,${data.toString('base64')}` };
    }),
  );
}

/** A completed response: its id, output items (parsed) and usage. */
export interface StreamedResponse {
  readonly id: string | null;
  readonly items: ConversationItem[];
  readonly usage: Usage;
}

/** What {@link streamResponse} needs besides the request. */
export interface StreamContext {
  readonly settings: SessionSettings;
  readonly signal: AbortSignal;
  readonly heartbeat: (details?: unknown) => void;
}

/**
 * Sends a streaming request and collects the response. Heartbeats while waiting and on
 * every event; abandons a stream idle for `streamIdleMs` (retryable); maps every error
 * to a classified ApplicationFailure (see ./inference-errors). Cancellation of the
 * activity aborts the HTTP request and rethrows the cancellation.
 */
export async function streamResponse(client: OpenAI, body: Omit<ResponseCreateParamsStreaming, 'stream'>, ctx: StreamContext): Promise<StreamedResponse> {
  const { settings } = ctx;
  const abort = new AbortController();
  const onCancel = () => abort.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onCancel);
  let idleTimer: NodeJS.Timeout | undefined;
  let idle = false;
  const armIdleTimer = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      idle = true;
      abort.abort(new Error('stream idle'));
    }, settings.timings.streamIdleMs);
  };
  // The provider may take a while before the first byte; keep the activity alive.
  const pulse = setInterval(() => ctx.heartbeat({ phase: 'waiting' }), Math.max(200, Math.min(5_000, settings.timings.inferenceHeartbeatMs / 3)));
  try {
    armIdleTimer();
    const response = await client.responses.create({ ...body, stream: true }, { signal: abort.signal }).asResponse();
    return await collect(responseEvents(response, settings.provider.name), settings.provider.name, () => {
      armIdleTimer();
      ctx.heartbeat({ phase: 'streaming' });
    });
  } catch (err) {
    // Cancelled by the workflow (an interrupt): report the cancellation itself.
    if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
    if (idle) throw transientFailure(`${settings.provider.name} sent nothing for ${settings.timings.streamIdleMs} ms; the stream was abandoned`);
    throw classifyInferenceError(err, settings.provider.name);
  } finally {
    clearTimeout(idleTimer);
    clearInterval(pulse);
    ctx.signal.removeEventListener('abort', onCancel);
  }
}

/** Reasoning settings of a request, when the thread uses reasoning. */
/** The format name Codex gives the schema of `--output-schema`. */
export const OUTPUT_SCHEMA_NAME = 'codex_output_schema';

/**
 * The request's `text.format` for a thread run with `--output-schema` (Codex's shape:
 * `json_schema`, strict); nothing otherwise. The schema is read from the store by hash.
 */
export async function outputSchemaParams(store: TranscriptStore, settings: SessionSettings): Promise<Pick<ResponseCreateParamsStreaming, 'text'>> {
  if (settings.outputSchema === undefined) return {};
  // A blob, not a canonical value: the schema's key order (the order the model writes the answer's fields) is kept.
  const schema = JSON.parse((await store.getBlob(settings.outputSchema)).toString('utf8')) as Record<string, unknown>;
  return { text: { format: { type: 'json_schema', name: OUTPUT_SCHEMA_NAME, strict: true, schema } } };
}

export function reasoningParams(settings: SessionSettings): Pick<ResponseCreateParamsStreaming, 'reasoning' | 'include'> {
  if (!settings.reasoningEffort) return {};
  const summary = settings.reasoningSummary !== 'none' ? { summary: settings.reasoningSummary } : {};
  return { reasoning: { effort: settings.reasoningEffort, ...summary }, include: ['reasoning.encrypted_content'] };
}

/**
 * The events of a streamed response, parsed. A `[DONE]` sentinel ends the stream; data
 * that is not JSON is a transient failure (a retry gets a fresh stream); an event that
 * carries only an `error` object (what some Responses-compatible servers send) is
 * classified like a `response.failed`. The body is cancelled when the caller stops early.
 */
async function* responseEvents(response: Response, providerName: string): AsyncGenerator<ResponseStreamEvent> {
  if (!response.body) throw transientFailure(`${providerName} answered without a response body`);
  const reader = response.body.getReader();
  try {
    for await (const sse of readServerSentEvents(chunksOf(reader))) {
      if (sse.data.startsWith('[DONE]')) return;
      let data: unknown;
      try {
        data = JSON.parse(sse.data);
      } catch (err) {
        throw transientFailure(`${providerName} sent an event whose data is not JSON (${(err as Error).message}): ${sse.data.slice(0, 200)}`);
      }
      if (isBareError(data)) throw classifyStreamError(data.error, providerName);
      yield data as ResponseStreamEvent;
    }
  } finally {
    // Closes the connection when we return early (response.completed, an error event).
    await reader.cancel().catch(() => undefined);
  }
}

async function* chunksOf(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

function isBareError(data: unknown): data is { error: { code?: string | null; message?: string | null } } {
  if (typeof data !== 'object' || data === null || 'type' in data) return false;
  const error = (data as { error?: unknown }).error;
  return typeof error === 'object' && error !== null;
}

async function collect(stream: AsyncIterable<ResponseStreamEvent>, providerName: string, onEvent: () => void): Promise<StreamedResponse> {
  const items: ConversationItem[] = [];
  for await (const event of stream) {
    onEvent();
    switch (event.type) {
      case 'response.output_item.done': {
        const parsed = ConversationItem.safeParse(event.item);
        if (parsed.success) items.push(parsed.data);
        break;
      }
      case 'response.completed': {
        const output = event.response.output ?? [];
        const final = items.length > 0 ? items : output.flatMap((o) => {
          const parsed = ConversationItem.safeParse(o);
          return parsed.success ? [parsed.data] : [];
        });
        return { id: event.response.id ?? null, items: final, usage: usageOf(event.response.usage) };
      }
      case 'response.failed':
        throw classifyStreamError(event.response.error, providerName);
      case 'response.incomplete':
        throw classifyStreamError({ code: 'incomplete', message: `response incomplete: ${event.response.incomplete_details?.reason ?? 'unknown reason'}` }, providerName);
      case 'error':
        throw classifyStreamError({ code: event.code, message: event.message }, providerName);
      default:
        break;
    }
  }
  throw transientFailure(`${providerName} closed the stream before response.completed`);
}

/** Usage in Unroll's field names. */
export function usageOf(usage: OpenAI.Responses.ResponseUsage | undefined | null): Usage {
  return {
    inputTokens: usage?.input_tokens ?? 0,
    cachedInputTokens: usage?.input_tokens_details?.cached_tokens ?? 0,
    outputTokens: usage?.output_tokens ?? 0,
    reasoningOutputTokens: usage?.output_tokens_details?.reasoning_tokens ?? 0,
    cacheWriteInputTokens: usage?.input_tokens_details?.cache_write_tokens ?? 0,
  };
}
