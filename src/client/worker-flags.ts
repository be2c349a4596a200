/**
 * `--no-worker` / `--in-process-worker` of the commands that run agents (exec, resume,
 * compact): which worker serves the thread, and where the SDK's log lines go. The
 * resident worker (./resident-worker.ts) is the default; the SDK (and its log file,
 * ./sdk-log.ts) is loaded only when the worker runs in this process, since a thin
 * client must not pay its import.
 */
import type { Command } from 'commander';

/** The flags, as commander gives them. */
export interface WorkerFlags {
  /** False with `--no-worker`. */
  worker?: boolean;
  inProcessWorker?: boolean;
  /** `-v`: SDK log lines on stderr too. */
  verbose?: boolean;
}

/** A flag combination that makes no sense. */
export class WorkerFlagsError extends Error {
  override readonly name = 'WorkerFlagsError';
}

/** The runtime options the flags ask for. */
export function workerOptions(flags: WorkerFlags): { withWorker: boolean; inProcessWorker: boolean } {
  if (flags.worker === false && flags.inProcessWorker) throw new WorkerFlagsError('--no-worker and --in-process-worker contradict each other: give one');
  return { withWorker: flags.worker !== false, inProcessWorker: Boolean(flags.inProcessWorker) };
}

/** With an in-process worker, sends the SDK's log lines to the home's log file (stderr too with -v). */
export async function workerLogs(flags: WorkerFlags, home: string, err: NodeJS.WritableStream): Promise<void> {
  if (!workerOptions(flags).inProcessWorker) return;
  const { installSdkLog } = await import('./sdk-log');
  installSdkLog({ home, verbose: flags.verbose === true, err });
}

/** Adds `--no-worker` and `--in-process-worker` to a command. */
export function withWorkerFlags(cmd: Command): Command {
  return cmd
    .option('--no-worker', 'use no worker of this home: one started elsewhere (`unroll worker`) serves the task queue')
    .option('--in-process-worker', 'run the worker in this process (it ends with the command) instead of the resident one');
}
