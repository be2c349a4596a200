/**
 * The search attributes Unroll sets on its workflows, so the Temporal Web UI (and
 * `temporal workflow list --query …`) can filter threads: by workspace, model, host,
 * the status of the latest turn (a failed or interrupted turn is findable as such) and
 * the time of the last activity.
 *
 * They must be registered on the server before a workflow may set them: the dev server
 * Unroll starts registers them (`--search-attribute`), on a cluster an operator runs
 * `temporal operator search-attribute create` (README). A thread's client checks at
 * start whether they are registered and records the answer in the thread's settings, so
 * a workflow never sets one the server would reject. Workflow-safe (no Node built-ins).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The thread's workspace directory. */
export const CWD_ATTRIBUTE = defineSearchAttributeKey('UnrollCwd', SearchAttributeType.KEYWORD);
/** The model of the thread's latest turn. */
export const MODEL_ATTRIBUTE = defineSearchAttributeKey('UnrollModel', SearchAttributeType.KEYWORD);
/** The host (Unroll host id) the thread runs on. */
export const HOST_ATTRIBUTE = defineSearchAttributeKey('UnrollHost', SearchAttributeType.KEYWORD);
/** The status of the thread's latest turn: running, completed, failed, interrupted. */
export const TURN_STATUS_ATTRIBUTE = defineSearchAttributeKey('UnrollTurnStatus', SearchAttributeType.KEYWORD);
/** When the thread last started or finished a turn. */
export const LAST_ACTIVITY_ATTRIBUTE = defineSearchAttributeKey('UnrollLastActivity', SearchAttributeType.DATETIME);

/** Every Unroll search attribute, with the type name the Temporal CLI takes. */
export const UNROLL_SEARCH_ATTRIBUTES: ReadonlyArray<{ readonly name: string; readonly cliType: 'Keyword' | 'Datetime' }> = [
  { name: CWD_ATTRIBUTE.name, cliType: 'Keyword' },
  { name: MODEL_ATTRIBUTE.name, cliType: 'Keyword' },
  { name: HOST_ATTRIBUTE.name, cliType: 'Keyword' },
  { name: TURN_STATUS_ATTRIBUTE.name, cliType: 'Keyword' },
  { name: LAST_ACTIVITY_ATTRIBUTE.name, cliType: 'Datetime' },
];

/** The `--search-attribute NAME=TYPE` arguments of `temporal server start-dev` that register them. */
export function searchAttributeArgs(): string[] {
  return UNROLL_SEARCH_ATTRIBUTES.flatMap(({ name, cliType }) => ['--search-attribute', `${name}=${cliType}`]);
}
