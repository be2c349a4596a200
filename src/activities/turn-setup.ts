/**
 * Activities that write the transcript around the model calls: the start of a turn
 * (initial context, context updates, aborted outputs, the user's message) and the
 * small commits a workflow needs when it must record something itself.
 */
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { abortedOutputFor, callsWithoutOutput } from '../items/normalize';
import { messageText, textMessage, type ConversationItem, type MessageItem } from '../items/schemas';
import { AGENTS_MD_BUDGET_BYTES, agentsInstructionsText } from '../prompt/agents-md';
import { modelSwitchMessageText } from '../prompt/compaction';
import { environmentContextText } from '../prompt/environment-context';
import { permissionsMessageText } from '../prompt/permissions';
import { sha256Hex } from '../store/canonical-json';
import type { SessionSettings } from '../config/settings';
import type { TranscriptStore } from '../store/transcript-store';
import type {
  BeginTurnInput,
  BeginTurnResult,
  CommitAppendInput,
  ContextState,
  RecoverTurnHeadInput,
  StoreMessageInput,
  StoreToolOutputInput,
  WorkspaceContextInput,
  WorkspaceContextRef,
} from './types';
import { UserInputFailureType } from '../shared/failure-types';
import { classifyingStoreErrors } from './store-errors';

/** Facts about the host the worker runs on, injected so tests can fix them. */
export interface HostFacts {
  readonly shell: string;
  readonly timezone: string;
  readonly now: () => Date;
}

/** Reads the host facts from the running process. */
export function currentHostFacts(env: Record<string, string | undefined>): HostFacts {
  return {
    shell: path.basename(env.SHELL ?? 'bash'),
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    now: () => new Date(),
  };
}

/** Dependencies of the turn-setup activities. */
export interface TurnSetupDeps {
  readonly store: TranscriptStore;
  readonly host: HostFacts;
}

/** The output given, at the start of the next turn, to calls an earlier turn left open. */
export const ABORTED_BY_EARLIER_TURN = 'aborted: the turn that made this call ended before the call produced an output';

/**
 * Creates `beginTurn`, `readWorkspaceContext`, `storeToolOutput`, `storeMessage`,
 * `commitAppend` and `recoverTurnHead`. `beginTurn` and `readWorkspaceContext` read the
 * workspace: a pinned thread runs them on its host's queue. Their store errors are classified as in ./store-errors: a corrupt
 * or missing object fails the activity for good after a few attempts, a full disk is
 * retried.
 */
export function createTurnSetupActivities({ store, host }: TurnSetupDeps) {
  return classifyingStoreErrors({
    /**
     * Starts a turn: closes calls left without output (a crashed or failed turn), appends
     * the context messages that are new or changed since the last turn (all of them on
     * the first turn; an edit becomes a new message, never a rewrite) and the user's
     * message, and returns the new head.
     */
    async beginTurn(input: BeginTurnInput): Promise<BeginTurnResult> {
      const history = await store.loadTranscript(input.head);
      const open = callsWithoutOutput(history.map((s) => s.item));
      const items: ConversationItem[] = open.map((call) => abortedOutputFor(call, ABORTED_BY_EARLIER_TURN));
      const context = await contextUpdates(input, host, items);
      const user = await userMessageOf(store, input);
      const head = await store.putNode(input.head, [...(await store.putItems(items)), user.hash], { kind: 'turn-start', turn: input.turn });
      await recordTurnHead(store, input.threadId, input.turn, head);
      return {
        head,
        context,
        abortedCalls: open.map((c) => (c as { call_id: string }).call_id),
        userMessage: messageText(user.item).slice(0, 200),
        appendedBytes: Buffer.byteLength(JSON.stringify([...items, user.item])),
      };
    },

    /**
     * Reads the initial context as it is now on this host (AGENTS.md from the workspace,
     * the environment) and stores its messages, so that a compaction running on any
     * worker can use it by reference.
     */
    async readWorkspaceContext(input: WorkspaceContextInput): Promise<WorkspaceContextRef> {
      const fresh = await freshContext(input.settings, host);
      return { items: await store.putItems(contextMessages(fresh)), state: fresh.state };
    },

    /** Stores a tool output the workflow made up (the tool activity gave up). */
    async storeToolOutput(input: StoreToolOutputInput): Promise<string> {
      const item: ConversationItem = input.custom
        ? { type: 'custom_tool_call_output', call_id: input.callId, output: input.text }
        : { type: 'function_call_output', call_id: input.callId, output: input.text };
      return store.putItem(item);
    },

    /** Stores a message the workflow adds (steering input, the interruption marker). */
    async storeMessage(input: StoreMessageInput): Promise<string> {
      return store.putItem(textMessage(input.role, input.text));
    },

    /** Appends already-stored items to a head (e.g. outputs of a turn that ends early). */
    async commitAppend(input: CommitAppendInput): Promise<string> {
      if (input.append.length === 0) return input.head;
      const head = await store.putNode(input.head, input.append, input.meta);
      await recordTurnHead(store, input.threadId, input.turn, head);
      return head;
    },

    /**
     * The last head a turn recorded, for a session whose turn workflow died (terminated,
     * or failed on a bug) without returning it. Null when the turn recorded nothing.
     */
    async recoverTurnHead(input: RecoverTurnHeadInput): Promise<string | null> {
      return (await store.getMarker(turnHeadKey(input.threadId, input.turn))) ?? null;
    },
  });
}

/** Marker key under which a turn's latest head is kept. */
export function turnHeadKey(threadId: string, turn: number): string {
  return `heads/${threadId}/turn-${turn}`;
}

/** Records the latest head of a turn, so it can be recovered if the turn dies. */
export async function recordTurnHead(store: TranscriptStore, threadId: string, turn: number, head: string): Promise<void> {
  await store.putMarker(turnHeadKey(threadId, turn), head);
}

/** The initial context as it is now: its messages and the state that names them. */
export interface FreshContext {
  readonly permissions: string;
  readonly agents: string;
  readonly environment: string;
  readonly state: ContextState;
}

/** Builds the initial context (permissions, AGENTS.md, environment) for `settings`. */
export async function freshContext(settings: SessionSettings, host: HostFacts): Promise<FreshContext> {
  const permissions = permissionsMessageText(settings);
  // Threads from before `projectDocs` keep what they had: 32 KiB of AGENTS.md, no global file.
  const agents = await agentsInstructionsText(settings.cwd, settings.projectDocs ?? { maxBytes: AGENTS_MD_BUDGET_BYTES, fallbackFilenames: [], globalDir: null });
  const environment = environmentContextText({
    cwd: settings.cwd,
    shell: host.shell,
    currentDate: isoDate(host.now()),
    timezone: host.timezone,
    approvalPolicy: settings.approvalPolicy,
    sandboxMode: settings.sandboxMode,
    networkAccess: settings.sandboxMode === 'danger-full-access' || settings.networkAccess === true ? 'enabled' : 'restricted',
  });
  return {
    permissions,
    agents,
    environment,
    state: { permissions: sha256Hex(permissions), agents: sha256Hex(agents), environment: sha256Hex(environment), model: settings.model },
  };
}

/** All messages of a fresh initial context, in order (used at thread start and after compaction). */
export function contextMessages(context: FreshContext): ConversationItem[] {
  const items: ConversationItem[] = [textMessage('developer', context.permissions)];
  if (context.agents !== '') items.push(textMessage('user', context.agents));
  items.push(textMessage('user', context.environment));
  return items;
}

/**
 * The user's message of a turn and its hash: the stored item named by `userItem` (the
 * session stored it, so the text stays out of history), or one made from `userText`.
 */
async function userMessageOf(store: TranscriptStore, input: BeginTurnInput): Promise<{ hash: string; item: MessageItem }> {
  if (input.userItem !== undefined) {
    const item = await store.getItem(input.userItem);
    if (item.type !== 'message' || item.role !== 'user') {
      // A client named the wrong object (the submit update takes any stored hash): no retry can fix it.
      throw ApplicationFailure.create({
        type: UserInputFailureType.NotAUserMessage,
        message: `the turn's input ${input.userItem} is a ${item.type === 'message' ? `${item.role} message` : item.type}, not a user message`,
        nonRetryable: true,
      });
    }
    return { hash: input.userItem, item };
  }
  if (input.userText === undefined) throw new TypeError(`beginTurn of turn ${input.turn} of thread ${input.threadId} got neither userItem nor userText`);
  const item = textMessage('user', input.userText);
  return { hash: await store.putItem(item), item };
}

/** Pushes the context messages that changed onto `items`; returns the new state. */
async function contextUpdates(input: BeginTurnInput, host: HostFacts, items: ConversationItem[]): Promise<ContextState> {
  const fresh = await freshContext(input.settings, host);
  const previous = input.context;
  const next = fresh.state;
  if (previous.model !== null && previous.model !== next.model) {
    items.push(textMessage('developer', modelSwitchMessageText(previous.model, next.model ?? '')));
  }
  if (next.permissions !== previous.permissions) items.push(textMessage('developer', fresh.permissions));
  if (next.agents !== previous.agents && fresh.agents !== '') items.push(textMessage('user', fresh.agents));
  if (next.environment !== previous.environment) items.push(textMessage('user', fresh.environment));
  return next;
}

function isoDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
