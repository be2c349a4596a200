/**
 * The inference activity: one model request of the agent loop. It loads the transcript
 * named by `head` (cached by head in the worker), appends the tool outputs of the last
 * step, sends the request to a Responses API (streaming, `store: false`, encrypted
 * reasoning included so it can be sent back, `prompt_cache_key` = thread id), stores
 * every output item, writes the new transcript node, and returns references: the new
 * head, the tool calls and the usage. The openai client's own retries are off: Temporal
 * retries, and the errors are classified in ./inference-errors.
 */
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import type { SessionSettings } from '../config/settings';
import { normalizeHistory } from '../items/normalize';
import { ConversationItem, isToolCall, messageText, type Usage } from '../items/schemas';
import { BASE_INSTRUCTIONS } from '../prompt/base-instructions';
import type { TranscriptStore } from '../store/transcript-store';
import { describeCall, toolSpecs } from '../tools/registry';
import { currentActivityEnv } from './activity-context';
import { classifyInferenceError, classifyStreamError, missingApiKeyFailure, transientFailure } from './inference-errors';
import { recordTurnHead } from './turn-setup';
import type { InferenceInput, InferenceResult, OutputRef, ToolCallRef } from './types';

/** Dependencies of the inference activity. */
export interface InferenceDeps {
  readonly store: TranscriptStore;
  /** Returns the API key held in the named environment variable, if set. */
  readonly apiKey: (envKey: string) => string | undefined;
}

/** Creates `runInference`. */
export function createInferenceActivities(deps: InferenceDeps) {
  const clients = new Map<string, OpenAI>();
  const clientFor = (settings: SessionSettings): OpenAI => {
    const { provider } = settings;
    const key = provider.envKey ? deps.apiKey(provider.envKey) : undefined;
    if (provider.envKey && !key) throw missingApiKeyFailure(provider.envKey, provider.name);
    const cacheKey = `${provider.baseUrl}\u0000${key ?? ''}`;
    let client = clients.get(cacheKey);
    if (!client) {
      client = new OpenAI({ apiKey: key ?? 'unused', baseURL: provider.baseUrl, maxRetries: 0, timeout: settings.timings.inferenceStartToCloseMs });
      clients.set(cacheKey, client);
    }
    return client;
  };

  return {
    /** Runs one model request; see the module comment. */
    async runInference(input: InferenceInput): Promise<InferenceResult> {
      const env = currentActivityEnv();
      env.heartbeat({ phase: 'loading' });
      const client = clientFor(input.settings);
      const history = await deps.store.loadTranscript(input.head);
      const appended = await Promise.all(input.append.map((h) => deps.store.getItem(h)));
      const requestInput = normalizeHistory([...history.map((s) => s.item), ...appended]).map(toRequestItem);
      const inputBytes = Buffer.byteLength(JSON.stringify(requestInput));
      const response = await streamResponse(client, input, requestInput, env.signal, env.heartbeat);
      const stored = await deps.store.putItems(response.items);
      const head = await deps.store.putNode(input.head, [...input.append, ...stored], { kind: 'step', turn: input.turn, step: input.step });
      await recordTurnHead(deps.store, input.threadId, input.turn, head);
      return {
        head,
        calls: toolCallRefs(response.items, stored, input.settings),
        outputs: outputRefs(response.items, stored),
        usage: response.usage,
        responseId: response.id,
        inputItems: requestInput.length,
        inputBytes,
      };
    },
  };
}

/** Items go back without their ids: with `store: false` the provider cannot resolve them. */
function toRequestItem(item: ConversationItem): Record<string, unknown> {
  const { id: _id, ...rest } = item;
  return rest;
}

interface StreamedResponse {
  readonly id: string | null;
  readonly items: ConversationItem[];
  readonly usage: Usage;
}

async function streamResponse(
  client: OpenAI,
  input: InferenceInput,
  requestInput: Record<string, unknown>[],
  cancel: AbortSignal,
  heartbeat: (details?: unknown) => void,
): Promise<StreamedResponse> {
  const { settings } = input;
  const abort = new AbortController();
  const onCancel = () => abort.abort(cancel.reason);
  cancel.addEventListener('abort', onCancel);
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
  const pulse = setInterval(() => heartbeat({ phase: 'waiting' }), Math.max(200, Math.min(5_000, settings.timings.inferenceHeartbeatMs / 3)));
  try {
    armIdleTimer();
    const reasoning = settings.reasoningEffort
      ? { effort: settings.reasoningEffort, ...(settings.reasoningSummary !== 'none' ? { summary: settings.reasoningSummary } : {}) }
      : undefined;
    const stream = await client.responses.create(
      {
        model: settings.model,
        instructions: BASE_INSTRUCTIONS,
        input: requestInput as unknown as OpenAI.Responses.ResponseInput,
        tools: toolSpecs(),
        tool_choice: 'auto',
        parallel_tool_calls: true,
        store: false,
        stream: true,
        prompt_cache_key: input.threadId,
        ...(reasoning ? { reasoning: reasoning, include: ['reasoning.encrypted_content' as const] } : {}),
      },
      { signal: abort.signal },
    );
    return await collect(stream, settings.provider.name, () => {
      armIdleTimer();
      heartbeat({ phase: 'streaming' });
    });
  } catch (err) {
    if (cancel.aborted) throw err;
    if (idle) throw transientFailure(`${settings.provider.name} sent nothing for ${settings.timings.streamIdleMs} ms; the stream was abandoned`);
    throw classifyInferenceError(err, settings.provider.name);
  } finally {
    clearTimeout(idleTimer);
    clearInterval(pulse);
    cancel.removeEventListener('abort', onCancel);
  }
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

function usageOf(usage: OpenAI.Responses.ResponseUsage | undefined | null): Usage {
  return {
    inputTokens: usage?.input_tokens ?? 0,
    cachedInputTokens: usage?.input_tokens_details?.cached_tokens ?? 0,
    outputTokens: usage?.output_tokens ?? 0,
    reasoningOutputTokens: usage?.output_tokens_details?.reasoning_tokens ?? 0,
  };
}

function toolCallRefs(items: ConversationItem[], hashes: string[], settings: SessionSettings): ToolCallRef[] {
  const refs: ToolCallRef[] = [];
  items.forEach((item, i) => {
    if (!isToolCall(item)) return;
    const description = describeCall(item, { shellTimeoutMs: settings.shellTimeoutMs });
    refs.push({ callId: item.call_id, itemHash: hashes[i], ...description });
  });
  return refs;
}

const EXCERPT_CHARS = 300;

function outputRefs(items: ConversationItem[], hashes: string[]): OutputRef[] {
  const refs: OutputRef[] = [];
  items.forEach((item, i) => {
    if (item.type === 'message' && item.role === 'assistant') {
      refs.push({ hash: hashes[i], type: 'agent_message', excerpt: messageText(item).slice(0, EXCERPT_CHARS) });
    } else if (item.type === 'reasoning') {
      const text = item.summary.map((s) => s.text).join('\n');
      if (text !== '') refs.push({ hash: hashes[i], type: 'reasoning', excerpt: text.slice(0, EXCERPT_CHARS) });
    }
  });
  return refs;
}
