/**
 * The tool activity: runs one tool call the model asked for and stores its output.
 *
 * Tools that change the world are not blindly retried. Before a shell command starts, a
 * marker is written; when a retry (after a worker crash) finds the marker without a
 * result, the command is reported to the model as interrupted instead of being run a
 * second time. When a retry finds a recorded result (the crash came after the command
 * finished), that result is returned as is, for every tool. An apply_patch cut short
 * mid-write simply runs again (it recognises the parts already applied), and
 * update_plan has no side effects.
 */
import type { ConversationItem, ToolCallItem } from '../items/schemas';
import { isToolCall } from '../items/schemas';
import { sha256Hex } from '../store/canonical-json';
import type { TranscriptStore } from '../store/transcript-store';
import { executeToolCall } from '../tools/registry';
import type { ToolResult } from '../tools/types';
import { currentActivityEnv } from './activity-context';
import type { RunToolInput, RunToolResult } from './types';

/** Dependencies of the tool activity. */
export interface ToolDeps {
  readonly store: TranscriptStore;
  /** The environment of tool processes (already filtered; see ActivityDeps.toolEnvironment). */
  readonly env: Readonly<Record<string, string>>;
}

/** What the model is told about a command whose worker died while it ran. */
export const INTERRUPTED_OUTPUT =
  'interrupted: the worker running this command stopped before it finished, so its outcome is unknown. ' +
  'It was not run again automatically. Check the state of the workspace and re-run it if needed.';

/** Tools whose effects must not be repeated by a retry. */
const AT_MOST_ONCE = new Set(['shell']);

/** Creates `runTool`. */
export function createToolActivities({ store, env: toolEnv }: ToolDeps) {
  return {
    /** Runs one tool call; see the module comment for the retry rules. */
    async runTool(input: RunToolInput): Promise<RunToolResult> {
      const env = currentActivityEnv();
      const item = await store.getItem(input.call.itemHash);
      if (!isToolCall(item)) throw new TypeError(`item ${input.call.itemHash} is a ${item.type}, not a tool call`);
      const markerKey = `calls/${sha256Hex(`${input.threadId}\u0000${input.turn}\u0000${input.step}\u0000${item.call_id}`)}`;
      // A recorded result means an earlier attempt finished: return it, run nothing.
      const marker = await store.getMarker(markerKey);
      if (marker?.startsWith('done ')) return JSON.parse(marker.slice(5)) as RunToolResult;
      if (AT_MOST_ONCE.has(item.name)) {
        if (marker === 'started') return record(store, item, interrupted(), markerKey);
        await store.putMarker(markerKey, 'started');
      }
      const result = await executeToolCall(
        item,
        { cwd: input.cwd, signal: env.signal, heartbeat: env.heartbeat, callId: item.call_id, sandbox: input.sandbox, attempt: env.attempt, env: toolEnv },
        { shellTimeoutMs: input.shellTimeoutMs },
      );
      // Cancelled (the turn was interrupted): the tool has stopped its processes; report
      // the cancellation so the workflow records the call as aborted by the user.
      if (env.signal.aborted) throw env.signal.reason ?? new Error('cancelled');
      return record(store, item, result, markerKey);
    },
  };
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
      : { type: 'function_call_output', call_id: call.call_id, output: result.output };
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
