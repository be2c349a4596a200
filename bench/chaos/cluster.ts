/**
 * The processes a chaos run starts and breaks: a file-backed Temporal dev server (so a
 * restart keeps every workflow) and `unroll worker` children (the compiled CLI, killed
 * with SIGKILL as a crash would). Every worker carries a run marker in its environment,
 * which its commands inherit, so the run can find and stop whatever it left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { devServerPidFile, ensureDevServer, isServerReachable, stopDevServer } from '../../src/temporal/dev-server';
import { findTemporalCli } from '../../src/temporal/temporal-cli';
import { WorkerStartError } from './errors';

/** The repository root (where package.json names `unroll`), from source or from dist/. */
export function repoRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'unroll') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no unroll package.json above ${from}`);
  }
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The run's own Temporal dev server, on a free port, keeping its state in `<dir>/chaos.db`. */
export class ChaosDevServer {
  private constructor(
    readonly address: string,
    private readonly cliPath: string,
    private readonly dbFile: string,
    private readonly logFile: string,
  ) {}

  /** Finds the Temporal CLI (no installs) and starts the server. */
  static async start(dir: string, env: NodeJS.ProcessEnv): Promise<ChaosDevServer> {
    const cliPath = await findTemporalCli({ explicitPath: env.UNROLL_TEMPORAL_CLI, toolsDir: path.join(repoRoot(), '.tools'), install: false });
    const server = new ChaosDevServer(`127.0.0.1:${await freePort()}`, cliPath, path.join(dir, 'chaos.db'), path.join(dir, 'temporal-server.log'));
    await server.up();
    return server;
  }

  /** Stops the server (SIGTERM, then SIGKILL) and starts it again on the same port and file. */
  async restart(): Promise<void> {
    await stopDevServer(devServerPidFile(this.dbFile));
    await this.up();
  }

  /** Stops the server if it runs. */
  async stop(): Promise<void> {
    await stopDevServer(devServerPidFile(this.dbFile));
  }

  /** True when the frontend port accepts connections. */
  reachable(): Promise<boolean> {
    return isServerReachable(this.address);
  }

  private async up(): Promise<void> {
    // The port was free a moment ago; a restart may also find it in TIME_WAIT, so try a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        // A UI port above 65535 makes the server headless: the run needs no web UI.
        await ensureDevServer({ address: this.address, cliPath: this.cliPath, dbFile: this.dbFile, logFile: this.logFile, uiPort: 65_536, startTimeoutMs: 60_000 });
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
        await sleep(1_000);
      }
    }
  }
}

/** Everything a worker child needs to know. */
export interface WorkerSpec {
  readonly home: string;
  readonly taskQueue: string;
  readonly address: string;
  readonly ledger: string;
  readonly runMarker: string;
  readonly logFile: string;
  /** A compiled worker entry point to run instead of `bin/unroll worker` (e.g. the pausing worker). */
  readonly script?: string;
  /** Extra environment for the worker (e.g. where the pausing worker stops). */
  readonly env?: Readonly<Record<string, string>>;
  /** The worker's host id (`unroll worker --host-id`): it polls `<taskQueue>@host:<id>` too. */
  readonly hostId?: string;
  /** `UNROLL_STORE` for the worker (default: the file store under its home). */
  readonly store?: string;
  /**
   * Directories the worker must not see: it runs in its own mount namespace with an
   * empty tmpfs over each (needs root), so a tool run on the wrong host finds nothing.
   */
  readonly hidden?: readonly string[];
}

/** A running `unroll worker` child. */
export class WorkerChild {
  private readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** The worker's process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True until the process has exited. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL, as a crash or the OOM killer would; resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful shutdown), SIGKILL after `graceMs`; resolves once it is gone. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Starts `bin/unroll worker` for `spec` and resolves once it polls its task queue.
 * Retries while the server is down (a worker refuses to start without one) until
 * `deadlineMs` has passed; then throws {@link WorkerStartError}.
 */
export async function startWorker(spec: WorkerSpec, deadlineMs = 90_000): Promise<WorkerChild> {
  const giveUp = Date.now() + deadlineMs;
  for (;;) {
    const attempt = await spawnOnce(spec);
    if (attempt instanceof WorkerChild) return attempt;
    if (Date.now() > giveUp) throw new WorkerStartError(spec.taskQueue, attempt);
    await sleep(500);
  }
}

async function spawnOnce(spec: WorkerSpec): Promise<WorkerChild | string> {
  const args = spec.script ? [spec.script] : [path.join(repoRoot(), 'bin', 'unroll'), 'worker', ...(spec.hostId ? ['--host-id', spec.hostId] : [])];
  const hidden = spec.hidden ?? [];
  // sh mounts over "$1"… (arguments, never quoted into the script) and then execs node, so
  // the pid we hold is the worker's own and SIGKILL reaches it.
  const mounts = hidden.map((_, i) => `mount -t tmpfs tmpfs "$${i + 1}" && `).join('');
  const [command, argv] = hidden.length === 0
    ? [process.execPath, args]
    : ['unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${mounts}shift ${hidden.length} && exec "$@"`, 'sh', ...hidden, process.execPath, ...args]];
  const child = spawn(command, argv, {
    env: {
      ...spec.env,
      ...(spec.store ? { UNROLL_STORE: spec.store } : {}),
      PATH: process.env.PATH,
      HOME: spec.home,
      UNROLL_HOME: spec.home,
      UNROLL_TASK_QUEUE: spec.taskQueue,
      UNROLL_TEMPORAL_ADDRESS: spec.address,
      UNROLL_AUTO_START_SERVER: '0',
      OPENAI_API_KEY: 'chaos-key',
      CHAOS_LEDGER: spec.ledger,
      CHAOS_RUN_ID: spec.runMarker,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.pipe(createWriteStream(spec.logFile, { flags: 'a' }));
  let stderr = '';
  return new Promise((resolve) => {
    const settle = (value: WorkerChild | string): void => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      resolve(value);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle(`no "worker running" line within 60 s:\n${stderr}`);
    }, 60_000);
    const onData = (chunk: Buffer): void => {
      stderr += chunk.toString();
      if (stderr.includes('worker running on task queue')) settle(new WorkerChild(child));
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => settle(`exited (${signal ?? code}) before polling:\n${stderr}`));
  });
}

/**
 * SIGKILLs every process whose environment carries `CHAOS_RUN_ID=<marker>`: workers and
 * commands a killed worker orphaned. Returns how many there were.
 */
export async function killMarkedProcesses(marker: string): Promise<number> {
  const needle = Buffer.from(`CHAOS_RUN_ID=${marker}\0`);
  let killed = 0;
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const environ = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
    if (!environ?.includes(needle)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed += 1;
    } catch {
      // Gone already.
    }
  }
  return killed;
}
