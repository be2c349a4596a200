import { isToolCall, isToolOutput, type ConversationItem, type ToolOutputItem } from './schemas';

/** The output text given to a call whose output was never recorded. */
export const ABORTED_OUTPUT = 'aborted: this tool call did not complete and produced no output';

/**
 * Finds calls that have no output yet, in call order. Used before a request to give
 * each of them a synthetic "aborted" output, so the provider never sees an unanswered
 * call (it rejects such input).
 */
export function callsWithoutOutput(items: readonly ConversationItem[]): ConversationItem[] {
  const answered = new Set(items.filter(isToolOutput).map((i) => i.call_id));
  return items.filter((i) => isToolCall(i) && !answered.has(i.call_id));
}

/** Builds the synthetic output for a call that never got one. */
export function abortedOutputFor(call: ConversationItem, text = ABORTED_OUTPUT): ToolOutputItem {
  if (!isToolCall(call)) throw new TypeError(`abortedOutputFor: ${call.type} is not a tool call`);
  return call.type === 'custom_tool_call'
    ? { type: 'custom_tool_call_output', call_id: call.call_id, output: text }
    : { type: 'function_call_output', call_id: call.call_id, output: text };
}

/**
 * Makes a history safe to send, as Codex does: every call gets exactly one output (a
 * synthetic aborted one right after it if it had none), outputs without a preceding call
 * are dropped, and a second output for the same call is dropped. Pure; returns a new
 * array and leaves the input untouched. A history that is already normal is returned
 * element for element equal, so the request prefix stays stable.
 */
export function normalizeHistory(items: readonly ConversationItem[]): ConversationItem[] {
  // Pass 1: which calls have an output somewhere after them.
  const calls = new Set<string>();
  const answerable = new Set<string>();
  for (const item of items) {
    if (isToolCall(item)) calls.add(item.call_id);
    else if (isToolOutput(item) && calls.has(item.call_id)) answerable.add(item.call_id);
  }
  // Pass 2: keep the first output after each call; give unanswered calls a synthetic one.
  const seenCalls = new Set<string>();
  const answered = new Set<string>();
  const result: ConversationItem[] = [];
  for (const item of items) {
    if (isToolOutput(item)) {
      if (!seenCalls.has(item.call_id) || answered.has(item.call_id)) continue;
      answered.add(item.call_id);
      result.push(item);
      continue;
    }
    result.push(item);
    if (isToolCall(item)) {
      seenCalls.add(item.call_id);
      if (!answerable.has(item.call_id)) {
        result.push(abortedOutputFor(item));
        answered.add(item.call_id);
      }
    }
  }
  return result;
}
