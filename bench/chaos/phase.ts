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
}

/** One session's run in a phase. */
export interface SessionRun extends DriveOutcome {
  readonly plan: SessionPlan;
  readonly threadId: string;
  readonly workspace: string;
  readonly kills: number;
  readonly durationMs: number;
}

/** A phase's result: where its files are, and every session's run. */
export interface PhaseResult {
  readonly name: PhaseName;
  readonly home: string;
  readonly ledger: string;
  readonly sessions: SessionRun[];
  readonly serverRestarts: number;
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
  const restarts = faults ? new ServerRestarter(ctx) : undefined;
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
    return { name: ctx.name, home, ledger, sessions, serverRestarts: restarts?.done ?? 0, wallMs: Date.now() - started };
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

/** Restarts the dev server when the run's progress (normal model answers) crosses each restart point. */
class ServerRestarter {
  done = 0;
  private answers = 0;
  private pending = 0;
  private running: Promise<void> = Promise.resolve();
  private readonly unsubscribe: () => void;

  constructor(private readonly ctx: PhaseContext) {
    this.unsubscribe = ctx.model.onAnswer(() => {
      this.answers += 1;
      const due = ctx.plan.serverRestartsAt.filter((at) => this.answers >= at * ctx.plan.expectedAnswers).length;
      if (due > this.done + this.pending) this.schedule();
    });
  }

  private schedule(): void {
    this.pending += 1;
    this.running = this.running.then(async () => {
      const begun = Date.now();
      await this.ctx.server.restart();
      this.pending -= 1;
      this.done += 1;
      this.ctx.log(`chaos: Temporal dev server restarted (${this.done}/${this.ctx.plan.serverRestartsAt.length}), down ${((Date.now() - begun) / 1000).toFixed(1)} s`);
    });
  }

  finish(): Promise<void> {
    this.unsubscribe();
    return this.running;
  }
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
