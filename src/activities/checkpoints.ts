/**
 * The checkpoint activity: after a step whose tool calls may have changed files (and at
 * a turn's start), snapshot the thread's workspace on its host and record the checkpoint
 * in the store (see src/checkpoints). Its result, kept in the turn's history, is the
 * step's record of its files: a checkpoint id, "unchanged", or "skipped" with the reason.
 *
 * The shadow repositories live under the worker's checkpoint directory; they are a cache
 * (the store holds everything), so a worker that lost them, or a new host, rebuilds them.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_RECORDED_CHANGES, resetWorkspace, snapshotWorkspace, type CheckpointOutcome, type CheckpointSettings } from '../checkpoints';
import type { TranscriptStore } from '../store/transcript-store';
import { currentActivityEnv } from './activity-context';

/** What the checkpoint activity takes. */
export interface CheckpointInput {
  readonly threadId: string;
  readonly turn: number;
  /** The step just finished (0: the turn's start). */
  readonly step: number;
  readonly cwd: string;
  /** The thread's latest checkpoint before this one. */
  readonly previous: string | null;
  readonly settings: CheckpointSettings;
}

/**
 * What the workspace reset (`unroll rewind`) takes: the checkpoint to restore, and, for
 * the record `show` reads, the step it was taken at, the turn that runs next and the
 * transcript head that turn starts from.
 */
export interface RestoreWorkspaceInput {
  readonly threadId: string;
  readonly cwd: string;
  readonly checkpoint: string;
  readonly settings: CheckpointSettings;
  /** The step rewound to, `<turn>.<step>`. */
  readonly to: string;
  readonly beforeTurn: number;
  readonly head: string | null;
}

/** What the workspace reset did: the restored snapshot's size. */
export interface RestoreWorkspaceResult {
  readonly checkpoint: string;
  readonly files: number;
  readonly bytes: number;
}

/** Dependencies of the checkpoint activity. */
export interface CheckpointDeps {
  readonly store: TranscriptStore;
  /** Directory of this host's shadow repositories (default: under the OS temp directory). */
  readonly checkpointRoot?: string;
}

/** How often a long snapshot (a large first one) tells Temporal it is alive. */
const HEARTBEAT_MS = 5_000;

/** Creates `checkpointWorkspace` and `restoreWorkspace`. */
export function createCheckpointActivities({ store, checkpointRoot }: CheckpointDeps) {
  const root = checkpointRoot ?? path.join(os.tmpdir(), `unroll-checkpoints-${os.userInfo().uid}`);
  return {
    async checkpointWorkspace(input: CheckpointInput): Promise<CheckpointOutcome> {
      const env = currentActivityEnv();
      const beat = setInterval(() => env.heartbeat(), HEARTBEAT_MS);
      try {
        const outcome = await snapshotWorkspace({
          store,
          root,
          threadId: input.threadId,
          workspace: input.cwd,
          previous: input.previous,
          settings: input.settings,
          label: `step ${input.turn}.${input.step}`,
        });
        // History keeps the first few paths; the store's record lists more.
        return outcome.kind === 'created' ? { ...outcome, changes: outcome.changes.slice(0, MAX_RECORDED_CHANGES) } : outcome;
      } finally {
        clearInterval(beat);
      }
    },

    /**
     * Resets the thread's workspace to a checkpoint (see resetWorkspace: files it does
     * not hold are removed unless ignored; nothing outside the workspace is touched, no
     * symlink is followed). Idempotent: a retry resets to the same state.
     */
    async restoreWorkspace(input: RestoreWorkspaceInput): Promise<RestoreWorkspaceResult> {
      const env = currentActivityEnv();
      const beat = setInterval(() => env.heartbeat(), HEARTBEAT_MS);
      try {
        const record = await resetWorkspace({ store, root, threadId: input.threadId, exclude: input.settings.exclude ?? [] }, input.checkpoint, input.cwd);
        return { checkpoint: input.checkpoint, files: record.files, bytes: record.bytes };
      } finally {
        clearInterval(beat);
      }
    },
  };
}
