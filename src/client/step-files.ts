/**
 * The files one step changed, for `show --step` (and `--diff`): every changed path from
 * the step's checkpoint in the store (history keeps only the first few), and on request
 * the unified diff against the previous checkpoint. Read from the store or a bundle's
 * objects; git runs in the client's cache repository.
 */
import { compareCheckpoints, readCheckpoint, type CheckpointPlace, type FileChange } from '../checkpoints';
import type { CheckpointView, StepRun } from '../history/thread-run';
import type { Paint } from './debug-command';

/** What a step did to the workspace, as `show --step --json` prints it. */
export interface StepFiles {
  readonly status: CheckpointView['status'];
  readonly checkpoint: string | null;
  readonly changeCount: number;
  /** Every changed path (A added, M modified, D deleted, T type changed). */
  readonly changes: readonly FileChange[];
  /** Why there is no checkpoint (skipped), else null. */
  readonly reason: string | null;
  /** The unified diff, when asked for and there is one. */
  readonly diff: string | null;
}

/** The files of a step's checkpoint (null: the step took none). */
export async function stepFiles(view: CheckpointView | null, place: CheckpointPlace, withDiff: boolean): Promise<StepFiles | null> {
  if (view === null) return null;
  const base = { status: view.status, checkpoint: view.id, changeCount: view.changeCount, changes: view.changes as FileChange[], reason: view.reason, diff: null };
  if (view.status !== 'created' || view.id === null) return { ...base, changes: [], changeCount: 0, diff: withDiff && view.status === 'unchanged' ? '' : null };
  const record = await readCheckpoint(place.store, view.id);
  const complete = record.changes.length === record.changeCount;
  if (complete && !withDiff) return { ...base, changes: record.changes, changeCount: record.changeCount };
  const compared = await compareCheckpoints(place, undefined, view.id, { patch: withDiff });
  return { ...base, changes: complete ? record.changes : compared.changes, changeCount: record.changeCount, diff: compared.patch };
}

const STATUS_WORD: Record<FileChange['status'], string> = { A: 'added', M: 'modified', D: 'deleted', T: 'type changed' };

/** The files section of `show --step`. */
export function stepFilesLines(step: StepRun, files: StepFiles | null, paint: Paint): string[] {
  if (files === null) return [paint('2', `files: no checkpoint after step ${step.id} (none of its tool calls may change files)`)];
  if (files.status === 'running') return [paint('33', `files: the checkpoint of step ${step.id} is still being taken`)];
  if (files.status === 'skipped') return [paint('33', `files: no checkpoint after step ${step.id} (${files.reason ?? 'no reason recorded'}): its files cannot be restored`)];
  if (files.status === 'unchanged') return [paint('2', `files: unchanged by step ${step.id}`)];
  const lines = [paint('1', `files changed by step ${step.id}: ${files.changeCount} (checkpoint ${files.checkpoint})`)];
  for (const change of files.changes) lines.push(`  ${paint(change.status === 'D' ? '31' : change.status === 'A' ? '32' : '33', change.status)} ${change.path}  ${paint('2', STATUS_WORD[change.status])}`);
  if (files.diff !== null) lines.push('', ...files.diff.replace(/\n$/, '').split('\n'));
  return lines;
}
