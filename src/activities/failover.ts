/**
 * Host failover, the activity side (the workflow side is src/workflows/workspace.ts).
 * Both activities run on the shared task queue, on any live worker of the fleet:
 *
 * - `checkHostLiveness` decides whether a pinned host whose queue nobody served for
 *   `failoverAfter` is gone or merely busy. It asks Temporal (DescribeTaskQueue) who
 *   polled the host's own queue and, since a busy worker stops polling a queue whose
 *   slots are full, also the shared queue's pollers that carry the host's identity. A
 *   host is alive while any of them polled within the liveness window.
 * - `adoptThread` moves a thread to the worker that runs it: it picks the workspace path
 *   on this host ({@link adoptionTarget}), restores the thread's latest checkpoint there,
 *   and returns this host's pin and the new cwd. Without a checkpoint (or when it cannot
 *   be restored) the thread still moves and the result says why the files are missing.
 */
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import { ConfigError } from '../config/config';
import type { SessionSettings } from '../config/settings';
import { hostPin, type HostPin } from '../shared/hosts';
import type { TranscriptStore } from '../store/transcript-store';

/** A poller as DescribeTaskQueue reports it. */
export interface PollerSeen {
  readonly identity: string;
  /** When it last polled (ms since the epoch, server clock); null if unknown. */
  readonly lastAccessMs: number | null;
}

/** The verdict of `checkHostLiveness`. */
export interface HostLiveness {
  readonly alive: boolean;
  /** The most recent poll of the host's workers (ISO time), if any is listed. */
  readonly lastSeen: string | null;
  /** Who polled then. */
  readonly seenBy: string | null;
}

/** Input of `checkHostLiveness`. */
export interface HostLivenessInput {
  readonly host: HostPin;
  /** The shared task queue (the workflow's). */
  readonly sharedTaskQueue: string;
}

/** The checkpoint a thread's workspace is restored from: its id and its step (`3.4`; null when taken by an earlier turn). */
export interface CheckpointRef {
  readonly id: string;
  readonly turn: number | null;
  readonly step: number | null;
}

/** "step 3.4", or the checkpoint's short id when its step is not known. */
export function checkpointLabel(ref: CheckpointRef): string {
  return ref.turn !== null && ref.step !== null ? `step ${ref.turn}.${ref.step}` : `checkpoint ${ref.id.slice(0, 12)} (the latest of an earlier turn)`;
}

/** Input of `adoptThread`. */
export interface AdoptThreadInput {
  readonly threadId: string;
  readonly turn: number;
  /** The thread's settings as they were on the lost host. */
  readonly settings: SessionSettings;
  /** The shared task queue, to build this host's pin. */
  readonly sharedTaskQueue: string;
  /** The latest checkpoint of the thread, or null when it has none. */
  readonly checkpoint: CheckpointRef | null;
}

/** A thread's move to another host: what the workflow records and the client prints. */
export interface HostMove {
  /** The lost host's id. */
  readonly from: string;
  /** The new pin. */
  readonly to: HostPin;
  readonly previousCwd: string;
  readonly cwd: string;
  /** The checkpoint the workspace was restored from; null when it was not restored. */
  readonly restoredFrom: CheckpointRef | null;
  /** Why the workspace was not restored (null when it was). */
  readonly notRestored: string | null;
  /** Why the workspace is not at its original path (null when it is). */
  readonly relocatedBecause: string | null;
}

/**
 * Writes checkpoint `checkpointId` of the thread into `target` (an existing, empty or
 * fresh directory). Provided by the checkpoint engine (src/checkpoints).
 */
export type RestoreWorkspace = (args: { store: TranscriptStore; threadId: string; checkpointId: string; target: string }) => Promise<void>;

/** Dependencies of the failover activities: this worker's host and its failover settings. */
export interface FailoverDeps {
  readonly hostId: string;
  readonly store: TranscriptStore;
  /** See FailoverConfig in src/config/config.ts. */
  readonly workspaceRoot: string;
  readonly workspaceRootConfigured: boolean;
  readonly livenessWindowMs: number;
  /** The checkpoint engine's restore; absent: no checkpoint can be restored on this worker. */
  readonly restore?: RestoreWorkspace;
  readonly now?: () => number;
}

/** The host id a worker identity names (`<pid>@<hostname> host:<id>`, see hostWorkerIdentity), or null. */
export function hostOfWorkerIdentity(identity: string): string | null {
  return / host:(\S+)$/.exec(identity)?.[1] ?? null;
}

/**
 * Pure verdict: the host is alive when any of its pollers polled within `windowMs` of
 * `now`. `hostQueue` are the pollers of the host's own queue (all of them are the host's);
 * `shared` those of the shared queue, of which only the host's own identities count.
 */
export function hostLiveness(hostId: string, hostQueue: readonly PollerSeen[], shared: readonly PollerSeen[], now: number, windowMs: number): HostLiveness {
  const mine = [...hostQueue, ...shared.filter((p) => hostOfWorkerIdentity(p.identity) === hostId)].filter((p) => p.lastAccessMs !== null);
  const latest = mine.sort((a, b) => b.lastAccessMs! - a.lastAccessMs!)[0];
  if (!latest) return { alive: false, lastSeen: null, seenBy: null };
  return { alive: now - latest.lastAccessMs! <= windowMs, lastSeen: new Date(latest.lastAccessMs!).toISOString(), seenBy: latest.identity };
}

/**
 * Where an adopted thread's workspace goes on this host: its original path when that is
 * allowed here, else `<workspaceRoot>/<thread id>`. The original path is allowed when it
 * is absolute, inside the workspace root (only when a root was configured), not a
 * non-empty directory already (that would be this host's own files, which a restore must
 * not mix into), and creatable and writable. Creates the directory it returns.
 */
export async function adoptionTarget(cwd: string, threadId: string, deps: Pick<FailoverDeps, 'workspaceRoot' | 'workspaceRootConfigured'>): Promise<{ path: string; why: string | null }> {
  const problem = await originalPathProblem(cwd, deps);
  if (problem === null) return { path: cwd, why: null };
  const fallback = path.join(deps.workspaceRoot, threadId.replace(/[^A-Za-z0-9._-]/g, '_'));
  await mkdir(fallback, { recursive: true });
  return { path: fallback, why: problem };
}

async function originalPathProblem(cwd: string, deps: Pick<FailoverDeps, 'workspaceRoot' | 'workspaceRootConfigured'>): Promise<string | null> {
  if (!path.isAbsolute(cwd)) return `${cwd} is not an absolute path`;
  const relative = path.relative(deps.workspaceRoot, cwd);
  if (deps.workspaceRootConfigured && (relative.startsWith('..') || path.isAbsolute(relative))) return `${cwd} is outside this worker's workspace root ${deps.workspaceRoot}`;
  try {
    if ((await readdir(cwd)).length > 0) return `${cwd} already holds other files on this host`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return `${cwd} cannot be read on this host (${code ?? (err as Error).message})`;
  }
  try {
    await mkdir(cwd, { recursive: true });
    await access(cwd, fsConstants.W_OK);
  } catch (err) {
    return `${cwd} cannot be created on this host (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  return null;
}

/** A configured workspace root this worker cannot restore adopted workspaces under (a usage error: exit 2). */
export class WorkspaceRootError extends ConfigError {
  override readonly name = 'WorkspaceRootError';
  constructor(
    readonly root: string,
    readonly problem: string,
  ) {
    super(`the workspace root ${root} (--workspace-root, UNROLL_WORKSPACE_ROOT or workspaceRoot in config.json) ${problem}`);
  }
}

/**
 * Checks, when a worker starts, that its configured workspace root can hold adopted
 * workspaces: creates it if missing, and throws {@link WorkspaceRootError} when it is
 * not a directory, cannot be created or is not writable. Found only at an adoption, the
 * problem would hold a lost host's threads up while they wait to move.
 */
export async function checkWorkspaceRoot(root: string): Promise<void> {
  const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  try {
    await mkdir(root, { recursive: true });
  } catch (err) {
    const exists = await stat(root).catch(() => null);
    if (exists && !exists.isDirectory()) throw new WorkspaceRootError(root, 'is not a directory');
    throw new WorkspaceRootError(root, `cannot be created (${await creationError(root, code(err))})`);
  }
  if (!(await stat(root)).isDirectory()) throw new WorkspaceRootError(root, 'is not a directory');
  try {
    await access(root, fsConstants.W_OK);
  } catch (err) {
    throw new WorkspaceRootError(root, `is not writable (${code(err)})`);
  }
}

/**
 * The real reason `root` cannot be created: a recursive mkdir may report ENOENT where
 * the disk said EROFS or EACCES, so the first missing directory is created on its own.
 */
async function creationError(root: string, reported: string): Promise<string> {
  let missing = path.resolve(root);
  while (path.dirname(missing) !== missing && (await stat(path.dirname(missing)).catch(() => null)) === null) missing = path.dirname(missing);
  try {
    await mkdir(missing);
    return reported;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? reported;
  }
}

/** Milliseconds of a protobuf timestamp, or null. */
function millis(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number | null {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return null;
  return Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/** Creates `checkHostLiveness` and `adoptThread` for this worker's host. */
export function createFailoverActivities(deps: FailoverDeps) {
  const now = deps.now ?? Date.now;
  return {
    async checkHostLiveness(input: HostLivenessInput): Promise<HostLiveness> {
      const client = Context.current().client;
      const { TaskQueueType } = temporal.api.enums.v1;
      const pollers = async (name: string, type: temporal.api.enums.v1.TaskQueueType): Promise<PollerSeen[]> => {
        const answer = await client.workflowService.describeTaskQueue({ namespace: client.options.namespace, taskQueue: { name }, taskQueueType: type });
        return (answer.pollers ?? []).map((p) => ({ identity: p.identity ?? '', lastAccessMs: millis(p.lastAccessTime) }));
      };
      const [hostQueue, sharedWorkflow, sharedActivity] = await Promise.all([
        pollers(input.host.taskQueue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
        pollers(input.sharedTaskQueue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        pollers(input.sharedTaskQueue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
      ]);
      return hostLiveness(input.host.id, hostQueue, [...sharedWorkflow, ...sharedActivity], now(), deps.livenessWindowMs);
    },

    async adoptThread(input: AdoptThreadInput): Promise<HostMove> {
      const { settings, checkpoint } = input;
      const target = await adoptionTarget(settings.cwd, input.threadId, deps);
      const move = { from: settings.host?.id ?? '(unpinned)', to: hostPin(input.sharedTaskQueue, deps.hostId), previousCwd: settings.cwd, cwd: target.path, relocatedBecause: target.why };
      if (checkpoint === null) {
        return { ...move, restoredFrom: null, notRestored: `the thread has no checkpoint to restore, so ${target.path} holds none of its files` };
      }
      if (!deps.restore) {
        // SEAM(checkpoints): the checkpoint engine (src/checkpoints) passes its restore in.
        return { ...move, restoredFrom: null, notRestored: `this worker cannot restore checkpoints (no checkpoint engine), so ${target.path} holds none of the thread's files` };
      }
      try {
        await deps.restore({ store: deps.store, threadId: input.threadId, checkpointId: checkpoint.id, target: target.path });
      } catch (err) {
        return { ...move, restoredFrom: null, notRestored: `checkpoint ${checkpoint.id} (${checkpointLabel(checkpoint)}) could not be restored into ${target.path}: ${(err as Error).message}` };
      }
      return { ...move, restoredFrom: checkpoint, notRestored: null };
    },
  };
}

/** The failover activities, for `proxyActivities<FailoverActivities>()` in workflows. */
export type FailoverActivities = ReturnType<typeof createFailoverActivities>;
