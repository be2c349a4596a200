/**
 * The compaction activity: replaces a transcript that has grown too large with a short
 * one, written as a new root node (parent null) whose meta names the old head, so the
 * old chain stays reachable for debugging and forking.
 *
 * The replacement is: a fresh initial context (permissions, AGENTS.md, environment; so
 * the rules are not forgotten), then either the provider's compacted history (remote
 * mode, `POST /responses/compact`: the user's messages and one opaque compaction item)
 * or, locally, the most recent user messages within a token budget and a handoff
 * summary the model wrote when asked. If the compaction request itself does not fit
 * the window, the oldest items are dropped and it is tried again.
 *
 * As in inference, the model's answer is kept in the worker's memory until the new root
 * is stored (./received-responses), so a retry after a store failure does not ask again;
 * store errors are classified as in ./store-errors.
 */
import { ApplicationFailure } from '@temporalio/common';
import type OpenAI from 'openai';
import type { SessionSettings } from '../config/settings';
import { normalizeHistory } from '../items/normalize';
import { ConversationItem, messageText, textMessage, type MessageItem, type Usage } from '../items/schemas';
import { ZERO_USAGE } from '../items/usage';
import {
  estimateTokens,
  isContextMessage,
  isUserInput,
  SUMMARIZATION_PROMPT,
  summaryMessageText,
} from '../prompt/compaction';
import { InferenceFailureType } from '../shared/failure-types';
import type { TranscriptStore } from '../store/transcript-store';
import { currentActivityEnv, type ActivityEnv } from './activity-context';
import { requestBody } from './inference';
import type { RequestToolSpec } from '../tools/contract';
import { ThreadToolSpecs } from '../tools/thread-tools';
import { classifyInferenceError } from './inference-errors';
import { ModelClients, requestItems, streamResponse, usageOf } from './model-client';
import { ReceivedResponses } from './received-responses';
import { classifyingStoreErrors } from './store-errors';
import { contextMessages, freshContext, recordTurnHead, type HostFacts } from './turn-setup';
import type { ContextState, WorkspaceContextRef } from './types';

/** Why a compaction ran. */
export type CompactionReason = 'auto' | 'overflow' | 'manual';

export interface CompactInput {
  readonly threadId: string;
  /** The turn it runs in; 0 for a compaction between turns. */
  readonly turn: number;
  readonly head: string;
  readonly settings: SessionSettings;
  readonly reason: CompactionReason;
  /**
   * The initial context, read on the workspace's host (`readWorkspaceContext`); absent in
   * threads without a host pin, where the compacting worker reads the workspace itself.
   */
  readonly fresh?: WorkspaceContextRef;
}

export interface CompactResult {
  readonly head: string;
  readonly context: ContextState;
  readonly mode: 'remote' | 'local';
  readonly reason: CompactionReason;
  readonly tokensBefore: number;
  readonly tokensAfter: number;
  /** Items dropped because even the compaction request did not fit. */
  readonly droppedItems: number;
  readonly usage: Usage;
}

/** Dependencies of the compaction activity. */
export interface CompactionDeps {
  readonly store: TranscriptStore;
  readonly clients: ModelClients;
  readonly host: HostFacts;
}

/** What the model answered to a compaction, and how much had to be dropped to ask. */
interface CompactionOutcome {
  readonly items: ConversationItem[];
  readonly usage: Usage;
  readonly droppedItems: number;
}

/** Creates `compactTranscript`. */
export function createCompactionActivities(deps: CompactionDeps) {
  const received = new ReceivedResponses<CompactionOutcome>();
  // The summarisation request offers the tools the thread's requests offer (its recorded
  // specs, MCP namespaces and hosted tools included), so the calls in its history match.
  const toolSpecs = new ThreadToolSpecs(deps.store);
  return classifyingStoreErrors({
    /** Compacts the transcript named by `head`; see the module comment. */
    async compactTranscript(input: CompactInput): Promise<CompactResult> {
      const env = currentActivityEnv();
      env.heartbeat({ phase: 'loading' });
      const items = normalizeHistory((await deps.store.loadTranscript(input.head)).map((s) => s.item));
      const history = items.filter((item) => !isContextMessage(item));
      const fresh = await replacementContext(input, deps);
      const mode = input.settings.context.compaction;
      const key = ReceivedResponses.keyOf({ threadId: input.threadId, turn: input.turn, head: input.head, reason: input.reason, mode });
      let outcome = received.get(key);
      if (!outcome) {
        const tools = input.settings.context.compaction === 'local' ? await toolSpecs.forThread(input.settings) : undefined;
        outcome = await askForReplacement(deps.clients.clientFor(input.settings), deps.store, input, items, history, env, tools);
        received.set(key, outcome);
      }
      const replacement = [...fresh.items, ...outcome.items];
      const head = await deps.store.append(null, replacement, {
        kind: 'compaction',
        reason: input.reason,
        mode,
        compactedFrom: input.head,
        turn: input.turn,
      });
      if (input.turn > 0) await recordTurnHead(deps.store, input.threadId, input.turn, head);
      received.delete(key);
      return {
        head,
        context: fresh.state,
        mode,
        reason: input.reason,
        tokensBefore: estimateTokens(items),
        tokensAfter: estimateTokens(replacement),
        droppedItems: outcome.droppedItems,
        usage: outcome.usage,
      };
    },
  });
}

/**
 * The context messages that open the replacement, and their state: the ones the pinned
 * host read and stored, or, for a thread without a pin, read here.
 */
async function replacementContext(input: CompactInput, deps: CompactionDeps): Promise<{ items: ConversationItem[]; state: ContextState }> {
  if (input.fresh) return { items: await Promise.all(input.fresh.items.map((hash) => deps.store.getItem(hash))), state: input.fresh.state };
  const fresh = await freshContext(input.settings, deps.host);
  return { items: contextMessages(fresh), state: fresh.state };
}

/**
 * Asks the provider for the replacement history. The request keeps the whole history in
 * order (so it extends the previous request and hits the prompt cache); on overflow the
 * oldest conversation items go first.
 */
async function askForReplacement(
  client: OpenAI,
  store: TranscriptStore,
  input: CompactInput,
  items: ConversationItem[],
  history: ConversationItem[],
  env: ActivityEnv,
  tools?: readonly RequestToolSpec[],
): Promise<CompactionOutcome> {
  const mode = input.settings.context.compaction;
  let body = items;
  let droppedItems = 0;
  for (;;) {
    try {
      const outcome = mode === 'remote'
        ? await remoteCompaction(client, input, body, await requestItems(store, body), env)
        : await localCompaction(client, input, body, await requestItems(store, [...body, textMessage('user', SUMMARIZATION_PROMPT)]), history, env, tools);
      return { ...outcome, droppedItems };
    } catch (err) {
      if (!isOverflow(err)) throw err;
      const trimmed = dropOldest(body);
      if (trimmed.length === body.length) throw err;
      droppedItems += body.length - trimmed.length;
      body = trimmed;
    }
  }
}

/**
 * Drops the oldest quarter (at least one) of the conversation items, keeping the
 * context messages, then re-normalises so no output is left without its call.
 */
export function dropOldest(items: readonly ConversationItem[]): ConversationItem[] {
  const conversation = items.filter((item) => !isContextMessage(item));
  if (conversation.length <= 1) return [...items];
  const drop = new Set(conversation.slice(0, Math.max(1, Math.floor(conversation.length / 4))));
  return normalizeHistory(items.filter((item) => !drop.has(item)));
}

function isOverflow(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === InferenceFailureType.ContextWindowExceeded;
}

/**
 * The provider's own compaction: user messages plus one opaque compaction item. It
 * heartbeats while the provider works (a long compaction is not a dead worker) and so
 * learns of a cancellation (an interrupt), which aborts the request.
 */
async function remoteCompaction(client: OpenAI, input: CompactInput, body: ConversationItem[], sent: Record<string, unknown>[], env: ActivityEnv): Promise<{ items: ConversationItem[]; usage: Usage }> {
  let response: OpenAI.Responses.CompactedResponse;
  const pulse = setInterval(() => env.heartbeat({ phase: 'compacting' }), Math.max(200, Math.min(5_000, input.settings.timings.inferenceHeartbeatMs / 3)));
  try {
    response = await client.responses.compact(
      {
        model: input.settings.model,
        // Stored images go as data: URLs, as in every request (a raw image_blob means nothing to the provider).
        input: sent as unknown as OpenAI.Responses.ResponseInput,
        instructions: requestBody(input.threadId, input.settings).instructions ?? null,
        prompt_cache_key: input.threadId,
      },
      { signal: env.signal },
    );
  } catch (err) {
    if (env.signal.aborted) throw env.signal.reason ?? err;
    throw classifyInferenceError(err, input.settings.provider.name);
  } finally {
    clearInterval(pulse);
  }
  const items = response.output.flatMap((o) => {
    const parsed = ConversationItem.safeParse(o);
    return parsed.success && !isContextMessage(parsed.data) ? [parsed.data] : [];
  });
  return { items, usage: usageOf(response.usage) };
}

/** Asks the model for a handoff summary; keeps the recent user messages verbatim. */
async function localCompaction(
  client: OpenAI,
  input: CompactInput,
  body: ConversationItem[],
  sent: Record<string, unknown>[],
  history: ConversationItem[],
  env: ActivityEnv,
  tools?: readonly RequestToolSpec[],
): Promise<{ items: ConversationItem[]; usage: Usage }> {
  const response = await streamResponse(
    client,
    {
      ...requestBody(input.threadId, input.settings, tools),
      tool_choice: 'none',
      input: sent as unknown as OpenAI.Responses.ResponseInput,
    },
    { settings: input.settings, signal: env.signal, heartbeat: env.heartbeat },
  );
  const summary = response.items
    .filter((i): i is MessageItem => i.type === 'message' && i.role === 'assistant')
    .map(messageText)
    .join('\n')
    .trim();
  const recent = recentUserMessages(history, input.settings.context.recentUserMessageTokens);
  const summaryText = summaryMessageText(summary === '' ? '(the model returned no summary)' : summary);
  return { items: [...recent, textMessage('user', summaryText)], usage: response.usage ?? ZERO_USAGE };
}

/**
 * The user's own most recent messages, oldest first, within `budgetTokens` (bytes/4);
 * the oldest one that does not fit whole is cut to the remaining budget.
 */
export function recentUserMessages(history: readonly ConversationItem[], budgetTokens: number): MessageItem[] {
  const picked: MessageItem[] = [];
  let remaining = budgetTokens;
  for (let i = history.length - 1; i >= 0 && remaining > 0; i--) {
    const item = history[i];
    if (!isUserInput(item)) continue;
    const text = messageText(item as MessageItem);
    const cost = Math.ceil(Buffer.byteLength(text) / 4);
    if (cost <= remaining) {
      picked.unshift(textMessage('user', text));
      remaining -= cost;
    } else {
      picked.unshift(textMessage('user', `${Buffer.from(text).subarray(0, remaining * 4).toString('utf8').replace(/\uFFFD+$/, '')}\n[… message cut to fit the compaction budget]`));
      remaining = 0;
    }
  }
  return picked;
}
