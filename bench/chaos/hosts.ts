/**
 * The two-host mode of a chaos run (`--hosts 2`): a fleet of two hosts, A and B, on one
 * Temporal dev server and one private PostgreSQL store. Each host is one `unroll worker
 * --host-id <id>` with its own Unroll home, in its own mount namespace where the other
 * host's root (its workspaces) is hidden under an empty tmpfs. Sessions are pinned half
 * to A and half to B; kills hit either host's worker (a new one starts at once), and
 * PostgreSQL restarts mid-run. Afterwards every session's Temporal history must show
 * each workspace activity run by a worker of the thread's own host, and both hosts must
 * have served inferences.
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { WORKSPACE_ACTIVITIES as PINNED_ACTIVITIES } from '../../src/activities';
import type { SessionSettings } from '../../src/config/settings';
import { hostPin } from '../../src/shared/hosts';
import { sessionWorkflowId, turnWorkflowId } from '../../src/shared/ids';
import { startWorker, type WorkerChild, type WorkerSpec } from './cluster';
import { chaosSettings } from './session';

/** The two hosts of the fleet. */
export const HOST_IDS = ['A', 'B'] as const;
/** A host of the fleet. */
export type HostId = (typeof HOST_IDS)[number];

/** Activities that touch the workspace: they must run on the thread's pinned host (the host worker's own list). */
export const WORKSPACE_ACTIVITIES: ReadonlySet<string> = new Set(PINNED_ACTIVITIES);

/** Where a host's files are. */
export interface HostLayout {
  readonly id: HostId;
  /** Hidden from the other host: holds the workspaces. */
  readonly root: string;
  readonly home: string;
}

/** The host a session is pinned to: sessions alternate A, B, A, … */
export function hostOfSession(index: number): HostId {
  return HOST_IDS[index % HOST_IDS.length];
}

/** The settings of a chaos thread pinned to `host` of the fleet on `sharedQueue`. */
export function pinnedSettings(workspace: string, modelUrl: string, sharedQueue: string, host: HostId): SessionSettings {
  const pin = hostPin(sharedQueue, host);
  return { ...chaosSettings(workspace, modelUrl, sharedQueue), host: pin, toolTaskQueue: pin.taskQueue };
}

/** The two hosts' workers, each killed with SIGKILL on demand and replaced at once. */
export class HostFleet {
  readonly kills: Record<HostId, number> = { A: 0, B: 0 };
  private readonly current = new Map<HostId, WorkerChild>();
  private readonly chains = new Map<HostId, Promise<void>>();
  private closed = false;

  private constructor(
    readonly hosts: Record<HostId, HostLayout>,
    private readonly specs: Record<HostId, WorkerSpec>,
    private readonly log: (line: string) => void,
  ) {}

  /** Creates both hosts' directories under `dir` and starts their workers. */
  static async start(
    dir: string,
    base: Omit<WorkerSpec, 'home' | 'logFile' | 'hostId' | 'hidden' | 'store'>,
    store: string,
    log: (line: string) => void,
  ): Promise<HostFleet> {
    const hosts = {} as Record<HostId, HostLayout>;
    for (const id of HOST_IDS) {
      hosts[id] = { id, root: path.join(dir, `host-${id}`), home: path.join(dir, `home-${id}`) };
      await mkdir(path.join(hosts[id].root, 'ws'), { recursive: true });
      await mkdir(hosts[id].home, { recursive: true });
    }
    await mkdir(path.join(dir, 'logs'), { recursive: true });
    const specs = {} as Record<HostId, WorkerSpec>;
    for (const id of HOST_IDS) {
      const hidden = HOST_IDS.filter((other) => other !== id).map((other) => hosts[other].root);
      specs[id] = { ...base, home: hosts[id].home, hostId: id, store, hidden, logFile: path.join(dir, 'logs', `host-${id}.log`) };
    }
    const fleet = new HostFleet(hosts, specs, log);
    for (const id of HOST_IDS) fleet.current.set(id, await startWorker(specs[id]));
    return fleet;
  }

  /** The workspace of session `name` on `host`. */
  workspace(host: HostId, name: string): string {
    return path.join(this.hosts[host].root, 'ws', name);
  }

  /** SIGKILLs `host`'s worker and starts another; kills of one host run one after another. */
  killAndReplace(host: HostId, why: string): void {
    const chain = (this.chains.get(host) ?? Promise.resolve()).then(async () => {
      const worker = this.current.get(host);
      if (this.closed || !worker) return;
      await worker.kill();
      this.kills[host] += 1;
      this.log(`chaos: host ${host} worker ${worker.pid} killed (${why}); starting another`);
      this.current.set(host, await startWorker(this.specs[host]));
    });
    this.chains.set(host, chain.catch((err: unknown) => this.log(`chaos: host ${host} worker could not be replaced: ${(err as Error).message}`)));
  }

  /** Waits for pending replacements, then stops both workers. */
  async stop(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.chains.values()]);
    await Promise.all([...this.current.values()].map((w) => w.stop()));
  }
}

/** What the histories of the pinned sessions showed. */
export interface HostCheck {
  readonly sessionsByHost: Record<HostId, number>;
  /** Workspace activities (beginTurn, readWorkspaceContext, runTool) checked. */
  readonly workspaceActivities: number;
  /** Those that ran on a worker of another host, or were scheduled on another queue: must be none. */
  readonly wrongHost: string[];
  /** Inferences (runInference) by the host whose worker ran them; both must be > 0. */
  readonly inferencesByHost: Record<HostId, number>;
  /** Histories that could not be read. */
  readonly unreadable: string[];
}

/** The host id in an Unroll worker identity (`<pid>@<hostname> host:<id>`), or null. */
export function hostOfIdentity(identity: string | null | undefined): string | null {
  return / host:([^\s]+)$/.exec(identity ?? '')?.[1] ?? null;
}

/** One pinned session to check: its thread, pin, and how many turns it submitted. */
export interface PinnedSession {
  readonly threadId: string;
  readonly host: HostId;
  readonly turns: number;
}

/** The parts of a history event the host check reads (a Temporal `IHistoryEvent` has them). */
export interface ActivityEvent {
  readonly eventId?: unknown;
  readonly activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null; taskQueue?: { name?: string | null } | null } | null;
  readonly activityTaskStartedEventAttributes?: { scheduledEventId?: unknown; identity?: string | null } | null;
}

/**
 * Checks one workflow's history of a thread pinned to `host`: each workspace activity
 * must have been scheduled on the pin's queue and started by a worker of `host`; counts
 * inferences by the host that ran them. Adds to `into`; returns how many workspace
 * activities it checked.
 */
export function checkHistory(workflowId: string, events: readonly ActivityEvent[], host: HostId, sharedQueue: string, into: Pick<HostCheck, 'wrongHost' | 'inferencesByHost'>): number {
  const pinQueue = hostPin(sharedQueue, host).taskQueue;
  const scheduled = new Map<string, { type: string; queue: string }>();
  let checked = 0;
  for (const event of events) {
    const s = event.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(event.eventId), { type: s.activityType?.name ?? '', queue: s.taskQueue?.name ?? '' });
    const started = event.activityTaskStartedEventAttributes;
    if (!started) continue;
    const activity = scheduled.get(String(started.scheduledEventId));
    if (!activity) continue;
    const ranOn = hostOfIdentity(started.identity);
    if (activity.type === 'runInference' && (ranOn === 'A' || ranOn === 'B')) into.inferencesByHost[ranOn] += 1;
    if (!WORKSPACE_ACTIVITIES.has(activity.type)) continue;
    checked += 1;
    if (ranOn !== host || activity.queue !== pinQueue) {
      into.wrongHost.push(`${workflowId} ${activity.type} (event ${String(started.scheduledEventId)}) of a thread pinned to ${host}: queue ${activity.queue}, worker ${started.identity ?? '?'}`);
    }
  }
  return checked;
}

/**
 * Reads the session workflow and every turn workflow of each session from Temporal and
 * checks where each activity ran (ActivityTaskScheduled's queue, ActivityTaskStarted's
 * worker identity: the worker of the attempt that closed it).
 */
export async function checkHostPinning(client: Client, sharedQueue: string, sessions: readonly PinnedSession[]): Promise<HostCheck> {
  const result: HostCheck = { sessionsByHost: { A: 0, B: 0 }, workspaceActivities: 0, wrongHost: [], inferencesByHost: { A: 0, B: 0 }, unreadable: [] };
  let workspaceActivities = 0;
  for (const session of sessions) {
    result.sessionsByHost[session.host] += 1;
    const workflowIds = [sessionWorkflowId(session.threadId), ...Array.from({ length: session.turns }, (_, i) => turnWorkflowId(session.threadId, i + 1))];
    for (const workflowId of workflowIds) {
      try {
        const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
        workspaceActivities += checkHistory(workflowId, events, session.host, sharedQueue, result);
      } catch (err) {
        result.unreadable.push(`${workflowId}: ${(err as Error).message}`);
      }
    }
  }
  return { ...result, workspaceActivities };
}
