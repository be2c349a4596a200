/**
 * Sets the thread's search attributes (src/shared/search-attributes.ts) on its
 * SessionWorkflow as turns start and end, so the Web UI's list of workflows can filter
 * threads by workspace, model, host, the latest turn's status and the last activity.
 * Only on threads whose client found them registered (`settings.searchAttributes`), and
 * behind a patch: histories recorded before have no upsert commands and replay as they were.
 */
import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import type { SessionSettings } from '../config/settings';
import {
  CWD_ATTRIBUTE,
  HOST_ATTRIBUTE,
  LAST_ACTIVITY_ATTRIBUTE,
  MODEL_ATTRIBUTE,
  TURN_STATUS_ATTRIBUTE,
} from '../shared/search-attributes';
import type { TurnStatus } from './definitions';

/** Patch id of the search-attribute upserts. */
const SEARCH_ATTRIBUTES = 'search-attributes';

/**
 * Records the thread's settings and its latest turn's status (`running` when a turn
 * starts, its outcome when it ends), with the workflow's current time as last activity.
 */
export function markTurn(settings: SessionSettings, status: TurnStatus): void {
  if (settings.searchAttributes !== true || !patched(SEARCH_ATTRIBUTES)) return;
  upsertSearchAttributes([
    { key: CWD_ATTRIBUTE, value: settings.cwd },
    { key: MODEL_ATTRIBUTE, value: settings.model },
    ...(settings.host ? [{ key: HOST_ATTRIBUTE, value: settings.host.id }] : []),
    { key: TURN_STATUS_ATTRIBUTE, value: status },
    // Workflow time (deterministic): when this turn started or ended.
    { key: LAST_ACTIVITY_ATTRIBUTE, value: new Date() },
  ]);
}
