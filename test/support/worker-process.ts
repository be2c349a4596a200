/**
 * A real worker in a child process (`bin/unroll worker`, the compiled code), so that
 * crash tests can kill it with SIGKILL exactly as a crash or the OOM killer would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

// From test/support under ts-jest, or from dist/test/support when compiled for the benchmarks.
const CLI = [path.resolve(__dirname, '..', '..', 'bin', 'unroll'), path.resolve(__dirname, '..', '..', '..', 'bin', 'unroll')].find((p) => existsSync(p)) ?? path.resolve(__dirname, '..', '..', 'bin', 'unroll');

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Everything the worker wrote to stderr so far. */
  log(): string;
  /** SIGKILL, then wait for the process to be gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful shutdown), then wait. */
  stop(): Promise<void>;
}

/**
 * Starts `unroll worker` with the given Unroll home, task queue and server address, or
 * `script` instead (a compiled worker entry point such as ./pausing-worker.ts).
 */
export async function spawnWorker(options: { home: string; taskQueue: string; address: string; env?: Record<string, string>; script?: string }): Promise<WorkerProcess> {
  const child = spawn(process.execPath, options.script ? [options.script] : [CLI, 'worker'], {
    env: {
      PATH: process.env.PATH,
      HOME: options.home,
      UNROLL_HOME: options.home,
      UNROLL_TASK_QUEUE: options.taskQueue,
      UNROLL_TEMPORAL_ADDRESS: options.address,
      UNROLL_AUTO_START_SERVER: '0',
      OPENAI_API_KEY: 'test-key',
      ...options.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start in 30 s:\n${stderr}`)), 30_000);
    const check = () => {
      if (stderr.includes('worker running on task queue')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before starting:\n${stderr}`));
    });
  });
  return {
    child,
    log: () => stderr,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls `predicate` every 50 ms until it holds or `timeoutMs` passes. */
export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
