/**
 * A real `unroll worker` process of one host, for the multi-host tests: its own Unroll
 * home and host id, the transcript store shared with the other hosts, and its own mount
 * namespace in which the other hosts' workspace roots are hidden under an empty tmpfs
 * (we run as root), so a tool that ran on the wrong host would find no workspace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'unroll');

/** A running host worker. */
export interface HostWorker {
  readonly hostId: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  log(): string;
  /** SIGKILL, then wait for the process to be gone. */
  kill(): Promise<void>;
}

/** Options of {@link spawnHostWorker}. */
export interface HostWorkerOptions {
  readonly hostId: string;
  readonly home: string;
  readonly taskQueue: string;
  readonly address: string;
  /** The shared store, as an `UNROLL_STORE` spec (the fleet's PostgreSQL database). */
  readonly store: string;
  /** Directories this host must not see (the other hosts' workspace roots). */
  readonly hidden: readonly string[];
  /** Extra environment (e.g. the failover tests' liveness window). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra arguments of `unroll worker` (e.g. `--workspace-root`). */
  readonly args?: readonly string[];
}

/**
 * Starts `unroll worker --host-id <id>` in a private mount namespace with an empty tmpfs
 * over each hidden directory; resolves once it polls.
 */
export async function spawnHostWorker(options: HostWorkerOptions): Promise<HostWorker> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  // sh mounts over "$1"… (given as arguments, never quoted into the script) and then execs node,
  // so the pid we hold is the worker's own and SIGKILL reaches it.
  const mounts = options.hidden.map((_, i) => `mount -t tmpfs tmpfs "$${i + 1}" && `).join('');
  const script = `${mounts}shift ${options.hidden.length} && exec "$@"`;
  const child = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...options.hidden, process.execPath, CLI, 'worker', '--host-id', options.hostId, ...(options.args ?? [])],
    {
      env: {
        PATH: process.env.PATH,
        HOME: options.home,
        UNROLL_HOME: options.home,
        UNROLL_STORE: options.store,
        UNROLL_TASK_QUEUE: options.taskQueue,
        UNROLL_TEMPORAL_ADDRESS: options.address,
        UNROLL_AUTO_START_SERVER: '0',
        OPENAI_API_KEY: 'test-key',
        ...options.env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`host worker ${options.hostId} did not start in 30 s:\n${stderr}`)), 30_000);
    const check = () => {
      if (!stderr.includes('worker running on task queue')) return;
      clearTimeout(timer);
      resolve();
    };
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`host worker ${options.hostId} exited with ${code} before starting:\n${stderr}`));
    });
  });
  return {
    hostId: options.hostId,
    child,
    log: () => stderr,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
