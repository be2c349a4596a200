/**
 * `unroll worker`: a standalone worker that runs until it is told to stop. The first
 * SIGINT or SIGTERM stops it gracefully (running tasks are cancelled and recorded, the
 * turns go on with another worker); a second signal, or a drain that takes longer than
 * {@link WORKER_STOP_DEADLINE_MS}, leaves at once. A worker that stops by itself (a
 * fatal error) ends the command with exit 1 and says why. Nothing a client sends can
 * keep it from stopping.
 *
 * `unroll worker --resident` is the home's resident worker (./resident-worker.ts), which
 * the commands that run agents start in the background: it records itself in the home
 * once it polls and stops by itself after sitting idle for the configured time (no task
 * in flight and no running turn on its task queue). `unroll worker stop` stops it.
 */
import os from 'node:os';
import * as path from 'node:path';
import { checkWorkspaceRoot } from '../activities/failover';
import { loadConfig, type ConfigOverrides, type UnrollConfig } from '../config/config';
import { hostTaskQueue } from '../shared/hosts';
import { buildId } from './build-id';
import { liveWorkerRecord, readWorkerRecord, removeWorkerRecord, residentWorkerFiles, stopResidentWorker, workerFingerprint, writeWorkerRecord } from './resident-worker';
import { openRuntime, type UnrollRuntime } from './runtime';
import { installRuntimeLogger } from './runtime-logger';
import { RESIDENT_SOCKET_NAME } from './resident-exec-protocol';
import { startResidentExecService } from './resident-exec-service';

/** How long the command waits for a stopping worker before it leaves anyway (ms). */
export const WORKER_STOP_DEADLINE_MS = 20_000;

/** The streams and environment the command uses. */
export interface WorkerCommandIo {
  readonly env: Record<string, string | undefined>;
  readonly err: NodeJS.WritableStream;
}

/** Runs `unroll worker`; resolves with the exit code. */
export async function workerCommand(overrides: ConfigOverrides, io: WorkerCommandIo, options: { resident?: boolean } = {}): Promise<number> {
  const config = loadConfig(io.env, overrides);
  // A root the user set must be usable before the worker may adopt threads of lost hosts.
  if (config.failover.workspaceRootConfigured) await checkWorkspaceRoot(config.failover.workspaceRoot);
  installRuntimeLogger('INFO');
  const runtime = await openRuntime(config, io.env, { withWorker: true, inProcessWorker: true, log: (m) => io.err.write(`${m}\n`) });
  const how = options.resident ? `resident, stops after ${config.residentWorker.idleTimeoutMs / 1000} s idle or on \`unroll worker stop\`` : 'Ctrl-C to stop';
  io.err.write(`worker running on task queue "${config.temporal.taskQueue}" as host ${config.hostId} (host queue "${hostTaskQueue(config.temporal.taskQueue, config.hostId)}") at ${config.temporal.address}, store ${runtime.opened.description}, pid ${process.pid} (${how})\n`);
  if (!options.resident) return serveUntilStopped(runtime, io.err);
  return serveResident(config, runtime, io);
}

/**
 * Records the resident worker in its home, serves until stopped or idle, then removes the
 * record. It also serves thin `exec` clients on `<home>/worker.sock`
 * (./resident-exec-service.ts); a command running for one keeps the worker from idling.
 */
async function serveResident(config: UnrollConfig, runtime: UnrollRuntime, io: WorkerCommandIo): Promise<number> {
  const build = buildId();
  const { taskQueue, address } = config.temporal;
  const fingerprint = workerFingerprint(config, io.env, build);
  const service = await startResidentExecService({
    socketPath: path.join(config.home, RESIDENT_SOCKET_NAME),
    buildId: build,
    fingerprint,
    fingerprintOf: (commandConfig, env) => workerFingerprint(commandConfig, env, build),
    runtime,
    run: async (argv, commandIo) => (await import('./commands')).main(argv, commandIo),
    log: (m) => io.err.write(`${m}\n`),
  }).catch((err: unknown) => {
    io.err.write(`thin exec clients disabled: cannot listen on ${path.join(config.home, RESIDENT_SOCKET_NAME)}: ${err instanceof Error ? err.message : String(err)}\n`);
    return undefined;
  });
  await writeWorkerRecord(config.home, { pid: process.pid, buildId: build, fingerprint, startedAt: new Date().toISOString(), taskQueue, address });
  const idle = new IdleWatch(runtime, config.residentWorker.idleTimeoutMs, taskQueue, config.home, () => (service?.active() ?? 0) > 0);
  try {
    return await serveUntilStopped(runtime, io.err, WORKER_STOP_DEADLINE_MS, idle.idle, () => service?.close());
  } finally {
    idle.stop();
    await service?.close();
    await removeWorkerRecord(config.home, process.pid);
  }
}

/** How often the idle watch samples the workers' in-flight tasks (ms). */
const IDLE_SAMPLE_MS = 1_000;

/**
 * Resolves {@link IdleWatch.idle} once the workers have had no task in flight for
 * `idleMs` and no turn runs on their task queue (a turn waiting for an approval has no
 * task in flight, but needs its worker when the answer comes), or at once when the home
 * no longer records this process as its worker (the home was deleted, or another worker
 * took over after a stop that did not reach this one): an orphan must not poll forever.
 */
class IdleWatch {
  readonly idle: Promise<string>;
  private timer: NodeJS.Timeout | undefined;
  private lastBusy = Date.now();
  private checking = false;

  constructor(
    private readonly runtime: UnrollRuntime,
    private readonly idleMs: number,
    private readonly taskQueue: string,
    private readonly home: string,
    private readonly busy: () => boolean = () => false,
  ) {
    this.idle = new Promise((resolve) => {
      this.timer = setInterval(() => void this.sample(resolve), Math.min(IDLE_SAMPLE_MS, idleMs));
    });
  }

  private async sample(resolve: (reason: string) => void): Promise<void> {
    const worker = this.runtime.worker;
    if (!worker || this.checking) return;
    const record = await readWorkerRecord(this.home);
    if (record?.pid !== process.pid) {
      resolve(`the home ${this.home} no longer records this process as its resident worker`);
      return;
    }
    const inFlight = [worker.shared, worker.host].reduce((n, w) => n + w.getStatus().numInFlightActivities + w.getStatus().numInFlightWorkflowActivations, 0);
    if (inFlight > 0 || this.busy()) this.lastBusy = Date.now();
    if (Date.now() - this.lastBusy < this.idleMs) return;
    this.checking = true;
    try {
      const query = `TaskQueue = '${this.taskQueue.replace(/'/g, "\\'")}' AND WorkflowType = 'TurnWorkflow' AND ExecutionStatus = 'Running'`;
      const { count } = await this.runtime.client.workflow.count(query);
      if (count === 0) resolve(`idle for ${this.idleMs / 1000} s with no running turn`);
      else this.lastBusy = Date.now();
    } catch {
      // Cannot tell (the server is away): a running turn may need this worker, so stay.
      this.lastBusy = Date.now();
    } finally {
      this.checking = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** `unroll worker stop`: stops the home's resident worker; exit 0 whether or not one ran. */
export async function workerStopCommand(io: WorkerCommandIo & { readonly out: NodeJS.WritableStream }): Promise<number> {
  const config = loadConfig(io.env);
  const pid = await stopResidentWorker(config.home);
  io.out.write(pid === undefined ? `no resident worker runs for ${config.home}\n` : `stopped the resident worker (pid ${pid}) of ${config.home}\n`);
  return 0;
}

/** `unroll worker status`: the resident worker's record, or that none runs (exit 1). */
export async function workerStatusCommand(io: WorkerCommandIo & { readonly out: NodeJS.WritableStream }, json: boolean): Promise<number> {
  const config = loadConfig(io.env);
  const record = await liveWorkerRecord(config.home);
  if (json) io.out.write(`${JSON.stringify(record ?? null)}\n`);
  else if (record) io.out.write(`resident worker pid ${record.pid} (build ${record.buildId}), task queue "${record.taskQueue}" at ${record.address}, since ${record.startedAt}; log: ${residentWorkerFiles(config.home).log}\n`);
  else io.out.write(`no resident worker runs for ${config.home}\n`);
  return record ? 0 : 1;
}

/**
 * Waits until the runtime's worker stops, handling SIGINT and SIGTERM as the module
 * comment says; resolves with the exit code (0 after a graceful stop). `onStopping` runs
 * when the stop begins (the resident worker stops taking thin clients then).
 */
export function serveUntilStopped(runtime: UnrollRuntime, err: NodeJS.WritableStream, deadlineMs = WORKER_STOP_DEADLINE_MS, stopWhen?: Promise<string>, onStopping?: () => unknown): Promise<number> {
  return new Promise<number>((resolve) => {
    let signals = 0;
    let deadline: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(code);
    };
    const onSignal = (signal: NodeJS.Signals | 'idle') => {
      signals += 1;
      if (signals > 1) {
        if (signal === 'idle') return;
        err.write(`${signal} again: leaving now without waiting for the worker to drain\n`);
        finish(128 + (os.constants.signals[signal] ?? 0));
        return;
      }
      void Promise.resolve(onStopping?.()).catch(() => undefined);
      err.write(`${signal}: stopping the worker (at most ${deadlineMs / 1000} s${signal === 'idle' ? '' : `; send ${signal} again to leave at once`})\n`);
      deadline = setTimeout(() => {
        err.write(`the worker did not stop within ${deadlineMs / 1000} s (state ${runtime.worker?.getState() ?? 'none'}); leaving anyway\n`);
        finish(1);
      }, deadlineMs);
      void runtime.close().then(() => finish(runtime.worker?.getState() === 'FAILED' ? 1 : 0));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    void stopWhen?.then((reason) => {
      err.write(`${reason}\n`);
      onSignal('idle');
    });
    // A worker that ends without being asked to (a fatal error) ends the command, exit 1.
    runtime.stopped?.then(
      () => {
        if (signals > 0) return;
        err.write('the worker stopped by itself\n');
        finish(1);
      },
      (error: unknown) => {
        err.write(`the worker failed: ${error instanceof Error ? error.message : String(error)}\n`);
        if (signals === 0) finish(1);
      },
    );
  });
}
