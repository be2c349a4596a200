/**
 * The texts of context compaction: the request that asks the model for a handoff
 * summary (local compaction), the message that carries the summary in the replacement
 * history, and how to recognise the messages that make up the initial context (they are
 * rebuilt fresh after a compaction rather than kept from the old history).
 */
import { messageText, type ConversationItem } from '../items/schemas';

/** Asked of the model, after the whole history, when compacting locally. */
export const SUMMARIZATION_PROMPT = `You are about to run out of context. Write a handoff summary for another agent that will continue this task with none of the conversation above, only this summary and the user's recent messages.

Include:
- The user's goal and every requirement or constraint they stated.
- What has been done so far: files created or changed (with paths), commands run and what they showed, decisions taken and why.
- The current state: what works, what fails (with the exact error if there is one), what is half-done.
- The next steps, in order.

Be concrete and complete but brief. Do not call any tools.`;

/** Opening tag of the message that carries a compaction summary. */
export const SUMMARY_OPEN_TAG = '<handoff_summary>';

/** The user message that carries a summary into the replacement history. */
export function summaryMessageText(summary: string): string {
  return `${SUMMARY_OPEN_TAG}\nThe conversation so far was compacted. Another agent worked on this task before you and left this summary; build on it and do not redo finished work.\n\n${summary.trim()}\n</handoff_summary>`;
}

const CONTEXT_PREFIXES = ['<permissions instructions>', '# AGENTS.md instructions', '<environment_context>', '<model_switch>'];

/** True for the messages of the initial context (permissions, AGENTS.md, environment, model switch notes). */
export function isContextMessage(item: ConversationItem): boolean {
  if (item.type !== 'message' || (item.role !== 'user' && item.role !== 'developer')) return false;
  const text = messageText(item);
  return CONTEXT_PREFIXES.some((prefix) => text.startsWith(prefix));
}

/** True for a message carrying an earlier compaction's summary. */
export function isSummaryMessage(item: ConversationItem): boolean {
  return item.type === 'message' && item.role === 'user' && messageText(item).startsWith(SUMMARY_OPEN_TAG);
}

/** True for the user's own messages (not context, not summaries). */
export function isUserInput(item: ConversationItem): boolean {
  return item.type === 'message' && item.role === 'user' && !isContextMessage(item) && !isSummaryMessage(item);
}

/** The developer message appended when the thread's model changes. */
export function modelSwitchMessageText(from: string, to: string): string {
  return `<model_switch>\nThe model of this conversation changed from ${from} to ${to}. Continue the task where it stands.\n</model_switch>`;
}

/** Estimated tokens of some items: bytes of their JSON / 4. */
export function estimateTokens(items: readonly unknown[]): number {
  return Math.ceil(Buffer.byteLength(JSON.stringify(items)) / 4);
}
