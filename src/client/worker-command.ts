/**
 * `unroll worker`: a standalone worker that runs until it is told to stop. The first
 * SIGINT or SIGTERM stops it gracefully (running tasks are cancelled and recorded, the
 * turns go on with another worker); a second signal, or a drain that takes longer than
 * {@link WORKER_STOP_DEADLINE_MS}, leaves at once. A worker that stops by itself (a
 * fatal error) ends the command with exit 1 and says why. Nothing a client sends can
 * keep it from stopping.
 */
import os from 'node:os';
import { checkWorkspaceRoot } from '../activities/failover';
import { loadConfig, type ConfigOverrides } from '../config/config';
import { hostTaskQueue } from '../shared/hosts';
import { installRuntimeLogger, openRuntime, type UnrollRuntime } from './runtime';

/** How long the command waits for a stopping worker before it leaves anyway (ms). */
export const WORKER_STOP_DEADLINE_MS = 20_000;

/** The streams and environment the command uses. */
export interface WorkerCommandIo {
  readonly env: Record<string, string | undefined>;
  readonly err: NodeJS.WritableStream;
}

/** Runs `unroll worker`; resolves with the exit code. */
export async function workerCommand(overrides: ConfigOverrides, io: WorkerCommandIo): Promise<number> {
  const config = loadConfig(io.env, overrides);
  // A root the user set must be usable before the worker may adopt threads of lost hosts.
  if (config.failover.workspaceRootConfigured) await checkWorkspaceRoot(config.failover.workspaceRoot);
  installRuntimeLogger('INFO');
  const runtime = await openRuntime(config, io.env, { withWorker: true, log: (m) => io.err.write(`${m}\n`) });
  io.err.write(`worker running on task queue "${config.temporal.taskQueue}" as host ${config.hostId} (host queue "${hostTaskQueue(config.temporal.taskQueue, config.hostId)}") at ${config.temporal.address}, store ${runtime.opened.description} (Ctrl-C to stop)\n`);
  return serveUntilStopped(runtime, io.err);
}

/**
 * Waits until the runtime's worker stops, handling SIGINT and SIGTERM as the module
 * comment says; resolves with the exit code (0 after a graceful stop).
 */
export function serveUntilStopped(runtime: UnrollRuntime, err: NodeJS.WritableStream, deadlineMs = WORKER_STOP_DEADLINE_MS): Promise<number> {
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
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        err.write(`${signal} again: leaving now without waiting for the worker to drain\n`);
        finish(128 + (os.constants.signals[signal] ?? 0));
        return;
      }
      err.write(`${signal}: stopping the worker (at most ${deadlineMs / 1000} s; send ${signal} again to leave at once)\n`);
      deadline = setTimeout(() => {
        err.write(`the worker did not stop within ${deadlineMs / 1000} s (state ${runtime.worker?.getState() ?? 'none'}); leaving anyway\n`);
        finish(1);
      }, deadlineMs);
      void runtime.close().then(() => finish(runtime.worker?.getState() === 'FAILED' ? 1 : 0));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
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
