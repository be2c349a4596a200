/**
 * The inference activity: one model request of the agent loop. It loads the transcript
 * named by `head` (cached by head in the worker), appends the tool outputs of the last
 * step, sends the request to a Responses API (streaming, `store: false`, encrypted
 * reasoning included so it can be sent back, `prompt_cache_key` = thread id), stores
 * every output item, writes the new transcript node, and returns references: the new
 * head, the tool calls and the usage. The openai client's own retries are off: Temporal
 * retries, and the errors are classified in ./inference-errors (the model's) and
 * ./store-errors (the store's).
 *
 * A retry must not ask the model again for an answer it already gave: once a response
 * is complete it is kept in the worker's memory (./received-responses) until it is
 * stored, so a retry after a store failure (a full disk) on the same worker only stores
 * it.
 */
import type OpenAI from 'openai';
import type { SessionSettings } from '../config/settings';
import { isToolCall, messageText, type ConversationItem } from '../items/schemas';
import { BASE_INSTRUCTIONS } from '../prompt/base-instructions';
import type { TranscriptStore } from '../store/transcript-store';
import type { RequestToolSpec } from '../tools/contract';
import { describeCall } from '../tools/registry';
import { webSearchAction, webSearchDetail } from '../tools/web-search';
import { currentToolSpecs, threadDynamicTools, ThreadToolSpecs, threadToolNames } from '../tools/thread-tools';
import { currentActivityEnv, type ActivityEnv } from './activity-context';
import { buildRequestInput, ModelClients, outputSchemaParams, reasoningParams, streamResponse, type StreamedResponse } from './model-client';
import { ReceivedResponses } from './received-responses';
import { classifyingStoreErrors } from './store-errors';
import { recordTurnHead } from './turn-setup';
import type { InferenceInput, InferenceResult, OutputRef, ToolCallRef } from './types';

/** Dependencies of the inference activity. */
export interface InferenceDeps {
  readonly store: TranscriptStore;
  readonly clients: ModelClients;
}

/**
 * The request body of a step, minus `input` (shared by inference and local compaction).
 * `tools` are the thread's recorded specs (the inference activity loads them from the
 * store); without them, this worker's build of the thread's tool list.
 */
export function requestBody(threadId: string, settings: SessionSettings, tools?: readonly RequestToolSpec[]): Omit<OpenAI.Responses.ResponseCreateParamsStreaming, 'stream' | 'input'> {
  return {
    model: settings.model,
    instructions: settings.baseInstructions ?? BASE_INSTRUCTIONS,
    tools: (tools ?? currentToolSpecs(settings)) as OpenAI.Responses.Tool[],
    tool_choice: 'auto',
    parallel_tool_calls: true,
    store: false,
    prompt_cache_key: threadId,
    ...reasoningParams(settings),
  };
}

/** A complete response and the size of the request that got it. */
interface ReceivedInference {
  readonly response: StreamedResponse;
  readonly inputItems: number;
  readonly inputBytes: number;
}

/** Creates `runInference`. */
export function createInferenceActivities(deps: InferenceDeps) {
  const received = new ReceivedResponses<ReceivedInference>();
  const threadTools = new ThreadToolSpecs(deps.store);

  /** Loads the step's input and asks the model. */
  async function ask(input: InferenceInput, env: ActivityEnv): Promise<ReceivedInference> {
    const client = deps.clients.clientFor(input.settings);
    const requestInput = await buildRequestInput(deps.store, input.head, input.append);
    const tools = await threadTools.forThread(input.settings);
    const response = await streamResponse(
      client,
      { ...requestBody(input.threadId, input.settings, tools), ...(await outputSchemaParams(deps.store, input.settings)), input: requestInput as unknown as OpenAI.Responses.ResponseInput },
      { settings: input.settings, signal: env.signal, heartbeat: env.heartbeat },
    );
    return { response, inputItems: requestInput.length, inputBytes: Buffer.byteLength(JSON.stringify(requestInput)) };
  }

  return classifyingStoreErrors({
    /** Runs one model request; see the module comment. */
    async runInference(input: InferenceInput): Promise<InferenceResult> {
      const env = currentActivityEnv();
      env.heartbeat({ phase: 'loading' });
      const { threadId, turn, step, head: parent, append } = input;
      const key = ReceivedResponses.keyOf({ threadId, turn, step, head: parent, append });
      let got = received.get(key);
      if (!got) {
        got = await ask(input, env);
        received.set(key, got);
      }
      const { response, inputItems, inputBytes } = got;
      env.heartbeat({ phase: 'storing' });
      // Items and node in one round of fsyncs; the turn-head marker names the node, so it waits for it.
      const { items: stored, head } = await deps.store.putItemsAndNode(parent, append, response.items, { kind: 'step', turn, step });
      await recordTurnHead(deps.store, threadId, turn, head);
      received.delete(key);
      return {
        head,
        calls: toolCallRefs(response.items, stored, input.settings),
        outputs: outputRefs(response.items, stored),
        usage: response.usage,
        responseId: response.id,
        inputItems,
        inputBytes,
        outputBytes: Buffer.byteLength(JSON.stringify(response.items)),
      };
    },
  });
}

function toolCallRefs(items: ConversationItem[], hashes: string[], settings: SessionSettings): ToolCallRef[] {
  const refs: ToolCallRef[] = [];
  items.forEach((item, i) => {
    if (!isToolCall(item)) return;
    const description = describeCall(item, { shellTimeoutMs: settings.shellTimeoutMs, sandboxMode: settings.sandboxMode }, threadToolNames(settings), threadDynamicTools(settings));
    refs.push({ callId: item.call_id, itemHash: hashes[i], custom: item.type === 'custom_tool_call', ...description });
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
    } else if (item.type === 'web_search_call') {
      refs.push({ hash: hashes[i], type: 'web_search', excerpt: webSearchDetail(webSearchAction(item)).slice(0, EXCERPT_CHARS) });
    }
  });
  return refs;
}
