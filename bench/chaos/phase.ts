/**
 * One phase of a chaos run: every session played against the real stack, either
 * fault-free (the baseline: one shared worker) or with faults (each session on its own
 * task queue and worker, so that worker can be killed at the session's kill points and
 * replaced; the dev server restarted at the run's restart points).
 */
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { startWorker, type ChaosDevServer, type WorkerChild, type WorkerSpec } from './cluster';
import { hostOfSession, pinnedSettings, type HostFleet, type HostId } from './hosts';
import type { ChaosModel } from './model';
import type { ChaosPlan, SessionPlan } from './plan';
import { chaosSettings, driveSession, type DriveOutcome } from './session';

/** The two phases of a run. */
export type PhaseName = 'baseline' | 'chaos';

/** What a phase needs from the run. */
export interface PhaseContext {
  readonly name: PhaseName;
  readonly dir: string;
  readonly plan: ChaosPlan;
  readonly client: Client;
  readonly server: ChaosDevServer;
  readonly model: ChaosModel;
  readonly runMarker: string;
  readonly concurrency: number;
  readonly sessionDeadlineMs: number;
  readonly log: (line: string) => void;
  /** The two-host mode (./hosts.ts): the fleet the sessions are pinned to, and the database restarts. */
  readonly fleet?: FleetContext;
}

/** What the faulty phase of the two-host mode needs. */
export interface FleetContext {
  readonly fleet: HostFleet;
  /** The queue both hosts poll (each also polls `<sharedQueue>@host:<id>`). */
  readonly sharedQueue: string;
  /** The transcript store the hosts share. */
  readonly storeUrl: string;
  /** Fractions of the run's expected answers at which PostgreSQL restarts. */
  readonly dbRestartsAt: readonly number[];
  readonly restartDatabase: () => Promise<void>;
}

/** One session's run in a phase. */
export interface SessionRun extends DriveOutcome {
  readonly plan: SessionPlan;
  readonly threadId: string;
  readonly workspace: string;
  readonly kills: number;
  readonly durationMs: number;
  /** The host the thread is pinned to (two-host mode only). */
  readonly host?: HostId;
}

/** A phase's result: where its files are, and every session's run. */
export interface PhaseResult {
  readonly name: PhaseName;
  readonly home: string;
  readonly ledger: string;
  readonly sessions: SessionRun[];
  readonly serverRestarts: number;
  /** PostgreSQL restarts done (two-host mode). */
  readonly dbRestarts: number;
  /** The PostgreSQL store of the two-host mode; absent: the file store under `home`. */
  readonly storeUrl?: string;
  readonly wallMs: number;
}

/** Plays every session of the plan in this phase, at most `concurrency` at a time. */
export async function runPhase(ctx: PhaseContext): Promise<PhaseResult> {
  const started = Date.now();
  const home = path.join(ctx.dir, 'home');
  const ledger = path.join(ctx.dir, 'ledger.log');
  await mkdir(path.join(ctx.dir, 'logs'), { recursive: true });
  const spec = (taskQueue: string): WorkerSpec => ({
    home,
    taskQueue,
    address: ctx.server.address,
    ledger,
    runMarker: ctx.runMarker,
    logFile: path.join(ctx.dir, 'logs', `${taskQueue}.log`),
  });
  const faults = ctx.name === 'chaos';
  if (faults && ctx.fleet) return runFleetPhase(ctx, ctx.fleet);
  const restarts = faults ? new Restarter(ctx, serverRestartPoints(ctx)) : undefined;
  const sharedQueue = `${ctx.runMarker}-baseline`;
  const shared = faults ? undefined : await startWorker(spec(sharedQueue));
  try {
    const sessions = await pool(ctx.plan.sessions, ctx.concurrency, async (plan): Promise<SessionRun> => {
      const taskQueue = faults ? `${ctx.runMarker}-${plan.name}` : sharedQueue;
      const threadId = `${ctx.runMarker}-${ctx.name}-${plan.name}`;
      const workspace = path.join(ctx.dir, 'ws', plan.name);
      await mkdir(workspace, { recursive: true });
      const begun = Date.now();
      let workers: SessionWorkers | undefined;
      try {
        workers = faults ? await SessionWorkers.start(spec(taskQueue), plan, ctx.log) : undefined;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        ctx.log(`${ctx.name} ${plan.name}: NOT STARTED (${error})`);
        return { started: false, turns: [], head: null, error, wait: null, plan, threadId, workspace, kills: 0, durationMs: Date.now() - begun };
      }
      ctx.model.register(threadId, plan, { faults });
      workers?.listen(ctx.model, threadId);
      const outcome = await driveSession({
        client: ctx.client,
        plan,
        threadId,
        taskQueue,
        settings: chaosSettings(workspace, ctx.model.url, taskQueue),
        deadlineMs: ctx.sessionDeadlineMs,
      });
      await workers?.stop();
      const durationMs = Date.now() - begun;
      ctx.log(`${ctx.name} ${plan.name}: ${outcome.error ? `NOT COMPLETED (${outcome.error})` : 'completed'} in ${(durationMs / 1000).toFixed(1)} s, ${workers?.kills ?? 0} worker kills`);
      return { ...outcome, plan, threadId, workspace, kills: workers?.kills ?? 0, durationMs };
    });
    await restarts?.finish();
    return { name: ctx.name, home, ledger, sessions, serverRestarts: restarts?.done.server ?? 0, dbRestarts: 0, wallMs: Date.now() - started };
  } finally {
    await shared?.stop();
  }
}

/** A session's worker, killed with SIGKILL at the session's kill points and replaced at once. */
class SessionWorkers {
  kills = 0;
  private current: WorkerChild | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private unsubscribe: () => void = () => undefined;

  private constructor(
    private readonly spec: WorkerSpec,
    private readonly plan: SessionPlan,
    private readonly log: (line: string) => void,
  ) {}

  static async start(spec: WorkerSpec, plan: SessionPlan, log: (line: string) => void): Promise<SessionWorkers> {
    const workers = new SessionWorkers(spec, plan, log);
    workers.current = await startWorker(spec);
    return workers;
  }

  /** Schedules this session's kills from the model's first answers to its slots. */
  listen(model: ChaosModel, threadId: string): void {
    this.unsubscribe = model.onAnswer((event) => {
      if (event.threadId !== threadId || event.position.retry !== 0) return;
      for (const kill of this.plan.kills.filter((k) => k.turn === event.position.turn && k.step === event.position.step)) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.killAndReplace();
        }, kill.delayMs);
        this.timers.add(timer);
      }
    });
  }

  private killAndReplace(): void {
    this.chain = this.chain.then(async () => {
      if (this.closed || !this.current) return;
      await this.current.kill();
      this.kills += 1;
      this.log(`chaos ${this.plan.name}: worker ${this.current.pid} killed (SIGKILL ${this.kills}/${this.plan.kills.length}); starting another`);
      this.current = await startWorker(this.spec);
    });
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    for (const timer of this.timers) clearTimeout(timer);
    await this.chain.catch(() => undefined);
    await this.current?.stop();
  }
}

/** A restart of something the run depends on, at a fraction of the run's expected model answers. */
interface RestartPoint {
  readonly at: number;
  readonly what: 'server' | 'database';
  readonly restart: () => Promise<void>;
}

function serverRestartPoints(ctx: PhaseContext): RestartPoint[] {
  return ctx.plan.serverRestartsAt.map((at) => ({ at, what: 'server' as const, restart: () => ctx.server.restart() }));
}

/** Runs each restart point's restart when the run's progress (normal model answers) crosses it, one at a time. */
class Restarter {
  readonly done = { server: 0, database: 0 };
  private answers = 0;
  private next = 0;
  private running: Promise<void> = Promise.resolve();
  private readonly unsubscribe: () => void;
  private readonly points: RestartPoint[];

  constructor(
    private readonly ctx: PhaseContext,
    points: RestartPoint[],
  ) {
    this.points = [...points].sort((a, b) => a.at - b.at);
    this.unsubscribe = ctx.model.onAnswer(() => {
      this.answers += 1;
      while (this.next < this.points.length && this.answers >= this.points[this.next].at * ctx.plan.expectedAnswers) this.schedule(this.points[this.next++]);
    });
  }

  private schedule(point: RestartPoint): void {
    const total = this.points.filter((p) => p.what === point.what).length;
    this.running = this.running.then(async () => {
      const begun = Date.now();
      await point.restart();
      this.done[point.what] += 1;
      const label = point.what === 'server' ? 'Temporal dev server' : 'PostgreSQL';
      this.ctx.log(`chaos: ${label} restarted (${this.done[point.what]}/${total}), down ${((Date.now() - begun) / 1000).toFixed(1)} s`);
    });
  }

  finish(): Promise<void> {
    this.unsubscribe();
    return this.running;
  }
}

/**
 * The faulty phase of the two-host mode: sessions alternate between hosts A and B (each
 * thread pinned to its host), kill `k` of session `i` SIGKILLs the worker of host
 * `(i + k) % 2` (so both hosts' workers die, also while serving another host's
 * threads' inferences), and PostgreSQL restarts besides the dev server.
 */
async function runFleetPhase(ctx: PhaseContext, f: FleetContext): Promise<PhaseResult> {
  const started = Date.now();
  const restarts = new Restarter(ctx, [
    ...serverRestartPoints(ctx),
    ...f.dbRestartsAt.map((at) => ({ at, what: 'database' as const, restart: f.restartDatabase })),
  ]);
  const hosts = ['A', 'B'] as const;
  const sessions = await pool([...ctx.plan.sessions.entries()], ctx.concurrency, async ([index, plan]): Promise<SessionRun> => {
    const host = hostOfSession(index);
    const threadId = `${ctx.runMarker}-${ctx.name}-${plan.name}`;
    const workspace = f.fleet.workspace(host, plan.name);
    await mkdir(workspace, { recursive: true });
    const begun = Date.now();
    ctx.model.register(threadId, plan, { faults: true });
    let kills = 0;
    const timers = new Set<NodeJS.Timeout>();
    const unsubscribe = ctx.model.onAnswer((event) => {
      if (event.threadId !== threadId || event.position.retry !== 0) return;
      for (const kill of plan.kills.filter((k) => k.turn === event.position.turn && k.step === event.position.step)) {
        const victim = hosts[(index + plan.kills.indexOf(kill)) % hosts.length];
        const timer = setTimeout(() => {
          timers.delete(timer);
          kills += 1;
          f.fleet.killAndReplace(victim, `${plan.name} kill ${kills}/${plan.kills.length}`);
        }, kill.delayMs);
        timers.add(timer);
      }
    });
    const outcome = await driveSession({
      client: ctx.client,
      plan,
      threadId,
      taskQueue: f.sharedQueue,
      settings: pinnedSettings(workspace, ctx.model.url, f.sharedQueue, host),
      deadlineMs: ctx.sessionDeadlineMs,
    });
    unsubscribe();
    for (const timer of timers) clearTimeout(timer);
    const durationMs = Date.now() - begun;
    ctx.log(`${ctx.name} ${plan.name} (host ${host}): ${outcome.error ? `NOT COMPLETED (${outcome.error})` : 'completed'} in ${(durationMs / 1000).toFixed(1)} s, ${kills} worker kills`);
    return { ...outcome, plan, threadId, workspace, kills, durationMs, host };
  });
  await restarts.finish();
  return {
    name: ctx.name,
    home: path.join(ctx.dir, 'home'),
    ledger: path.join(ctx.dir, 'ledger.log'),
    sessions,
    serverRestarts: restarts.done.server,
    dbRestarts: restarts.done.database,
    storeUrl: f.storeUrl,
    wallMs: Date.now() - started,
  };
}

/** Maps `items` through `fn`, at most `limit` at a time, keeping the order. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  });
  await Promise.all(lanes);
  return results;
}
