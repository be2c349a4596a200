/**
 * The tool activity: runs one tool call the model asked for and stores its output.
 *
 * Tools that change the world are not blindly retried. Before a shell command starts, a
 * marker is written; when a retry (after a worker crash) finds the marker without a
 * result, the command is reported to the model as interrupted instead of being run a
 * second time. When a retry finds a recorded result (the crash came after the command
 * finished), that result is returned as is, for every tool. apply_patch journals its
 * plan (each file's content hash before and after) in a second marker before it touches
 * the workspace; a retry reads the journal back and finishes exactly the files the
 * interrupted attempt left undone, so no part of a patch is applied twice (see
 * src/tools/apply-patch/apply.ts). update_plan has no side effects. An MCP tool's call
 * is at most once unless the config marks the tool idempotent (src/tools/mcp-tool.ts). Which rule applies is
 * the tool's own declaration (`sideEffects`, src/tools/contract.ts): `at-most-once` tools
 * get the marker, `idempotent` and `none` ones simply run again.
 *
 * A result that could not be recorded (the store's disk was full, say) stays in the
 * worker's memory until a retry on the same worker records it: a command that finished
 * is never reported as interrupted just because its output could not be written yet.
 */
import type { ConversationItem, ToolCallItem } from '../items/schemas';
import { isToolCall } from '../items/schemas';
import { sha256Hex } from '../store/canonical-json';
import type { TranscriptStore } from '../store/transcript-store';
import { callToolName, executeToolCall, LEGACY_TOOL_NAMES, offeredTool } from '../tools/registry';
import { loadThreadEnvironment } from '../tools/thread-environment';
import type { CallJournal, ToolResult } from '../tools/types';
import { currentActivityEnv } from './activity-context';
import { ReceivedResponses } from './received-responses';
import type { McpHost } from './mcp';
import type { RunToolInput, RunToolResult } from './types';

/** Dependencies of the tool activity. */
export interface ToolDeps {
  readonly store: TranscriptStore;
  /** Test hook passed to tools as `ToolContext.stepHook`; never set in normal runs. */
  readonly stepHook?: (step: string) => Promise<void>;
  /** The environment of tool processes (already filtered; see ActivityDeps.toolEnvironment). */
  readonly env: Readonly<Record<string, string>>;
  /** Runs the calls of MCP tools on this host (./mcp.ts); absent: such calls fail as an infrastructure error. */
  readonly mcp?: McpHost;
}

/** What the model is told about a command whose worker died while it ran. */
export const INTERRUPTED_OUTPUT =
  'interrupted: the worker running this command stopped before it finished, so its outcome is unknown. ' +
  'It was not run again automatically. Check the state of the workspace and re-run it if needed.';

/** Finished results kept for a retry, at most this many (they are small). */
const UNRECORDED_LIMIT = 64;

type Finished = ToolResult & { interrupted?: boolean };

/** Creates `runTool`. */
export function createToolActivities({ store, stepHook, env: toolEnv, mcp }: ToolDeps) {
  /** Results that finished but are not yet recorded, by call marker key. */
  const unrecorded = new ReceivedResponses<Finished>(UNRECORDED_LIMIT);
  const recordOnce = async (call: ToolCallItem, result: Finished, markerKey: string) => {
    unrecorded.set(markerKey, result);
    const summary = await record(store, call, result, markerKey);
    unrecorded.delete(markerKey);
    return summary;
  };
  /** The thread's recorded environment (immutable, so cached by hash), else the worker's own. */
  const environments = new ReceivedResponses<Readonly<Record<string, string>>>(UNRECORDED_LIMIT);
  const environmentOf = async (input: RunToolInput): Promise<Readonly<Record<string, string>>> => {
    if (!input.environment) return toolEnv;
    const cached = environments.get(input.environment);
    if (cached) return cached;
    const loaded = (await loadThreadEnvironment(store, input.environment)) ?? toolEnv;
    environments.set(input.environment, loaded);
    return loaded;
  };
  const markers = { get: (key: string) => store.getMarker(key), put: (key: string, value: string) => store.putMarker(key, value) };
  return {
    /** Runs one tool call; see the module comment for the retry rules. */
    async runTool(input: RunToolInput): Promise<RunToolResult> {
      const env = currentActivityEnv();
      const item = await store.getItem(input.call.itemHash);
      if (!isToolCall(item)) throw new TypeError(`item ${input.call.itemHash} is a ${item.type}, not a tool call`);
      const markerKey = callMarkerKey(input, item.call_id);
      // A recorded result means an earlier attempt finished: return it, run nothing.
      const marker = await store.getMarker(markerKey);
      if (marker?.startsWith('done ')) return JSON.parse(marker.slice(5)) as RunToolResult;
      // An earlier attempt on this worker finished but could not record its result.
      const finished = unrecorded.get(markerKey);
      if (finished) return recordOnce(item, finished, markerKey);
      const offered = input.toolNames ?? LEGACY_TOOL_NAMES;
      const called = callToolName(item);
      const dynamic = input.dynamicTool && called === input.call.name ? { [called]: input.dynamicTool } : undefined;
      if (offeredTool(called, offered, dynamic)?.sideEffects === 'at-most-once') {
        if (marker === 'started') return recordOnce(item, interrupted(), markerKey);
        await store.putMarker(markerKey, 'started');
      }
      const journal: CallJournal = { read: () => store.getMarker(`${markerKey}.journal`), write: (value) => store.putMarker(`${markerKey}.journal`, value) };
      const result = await executeToolCall(
        item,
        {
          cwd: input.cwd, signal: env.signal, heartbeat: env.heartbeat, callId: item.call_id, sandbox: input.sandbox, attempt: env.attempt, journal, stepHook,
          env: withoutNames(await environmentOf(input), input.secretEnvNames), putBlob: (data) => store.putBlob(data),
          threadId: input.threadId, turn: input.turn, markers,
          ...(mcp ? { mcp: mcp.caller(input.environment, input.cwd) } : {}),
        },
        { shellTimeoutMs: input.shellTimeoutMs, ...(input.model !== undefined ? { model: input.model } : {}) },
        offered,
        dynamic,
      );
      // Cancelled (the turn was interrupted): the tool has stopped its processes; report
      // the cancellation so the workflow records the call as aborted by the user.
      if (env.signal.aborted) throw env.signal.reason ?? new Error('cancelled');
      return recordOnce(item, result, markerKey);
    },
  };
}

/**
 * The store marker of one tool call: `done <result>` once it finished, `started` while a
 * shell command runs; `<key>.journal` holds apply_patch's journal. Unique per thread,
 * turn, step and call id, so a retry of the activity finds its earlier attempt's markers.
 */
export function callMarkerKey(input: Pick<RunToolInput, 'threadId' | 'turn' | 'step'>, callId: string): string {
  return `calls/${sha256Hex(`${input.threadId}\u0000${input.turn}\u0000${input.step}\u0000${callId}`)}`;
}

/** `env` without the variables named (the thread's own secrets); the same object when none. */
function withoutNames(env: Readonly<Record<string, string>>, names: readonly string[] | undefined): Readonly<Record<string, string>> {
  if (!names || names.length === 0) return env;
  const drop = new Set(names);
  return Object.fromEntries(Object.entries(env).filter(([name]) => !drop.has(name)));
}

function interrupted(): ToolResult & { interrupted: true } {
  return { output: INTERRUPTED_OUTPUT, success: false, metadata: { interrupted: true }, interrupted: true };
}

async function record(
  store: TranscriptStore,
  call: ToolCallItem,
  result: ToolResult & { interrupted?: boolean },
  markerKey: string,
): Promise<RunToolResult> {
  const outputItem: ConversationItem =
    call.type === 'custom_tool_call'
      ? { type: 'custom_tool_call_output', call_id: call.call_id, output: result.output }
      : { type: 'function_call_output', call_id: call.call_id, output: result.content ?? result.output };
  const outputHash = await store.putItem(outputItem);
  const summary: RunToolResult = {
    callId: call.call_id,
    outputHash,
    success: result.success,
    interrupted: result.interrupted ?? false,
    metadata: result.metadata,
    outputBytes: Buffer.byteLength(JSON.stringify(outputItem)),
  };
  await store.putMarker(markerKey, `done ${JSON.stringify(summary)}`);
  return summary;
}
