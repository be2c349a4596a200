/**
 * The local Temporal dev server (`temporal server start-dev` with a SQLite file): the
 * default engine when nothing answers at the configured address.
 *
 * `ensureDevServer` starts it detached, so it outlives the CLI that started it and
 * later commands reuse it; it only reports success once the frontend answers gRPC
 * calls for the namespace, not merely when the port is open. `runDevServerForeground`
 * is the `unroll server` form: attached to the terminal until Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { Connection } from '@temporalio/client';

import { searchAttributeArgs } from '../shared/search-attributes';
import { dynamicConfigArgs } from './dynamic-config';
import { DevServerStartError, InvalidTemporalAddressError } from './errors';
import { writeServerRecord } from './server-record';

const DEFAULT_START_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 250;
const RPC_TIMEOUT_MS = 2_000;
const LOG_TAIL_LINES = 20;
const LOG_TAIL_BYTES = 16 * 1024;

/** A Temporal frontend address split into its parts. */
export interface TemporalAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Splits `host:port` (or `[ipv6]:port`) into its parts.
 *
 * @throws InvalidTemporalAddressError when the address has no valid port.
 */
export function parseTemporalAddress(address: string): TemporalAddress {
  const match = /^(?:\[([^\]]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(address.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65_535) throw new InvalidTemporalAddressError(address);
  return { host: match[1] ?? match[2], port };
}

/**
 * Whether a TCP connection to `address` (`host:port`) opens within `timeoutMs`. Says
 * nothing about what listens there; it never throws for network errors.
 *
 * @throws InvalidTemporalAddressError when the address is malformed.
 */
export function isServerReachable(address: string, timeoutMs = 1_000): Promise<boolean> {
  const { host, port } = parseTemporalAddress(address);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (reachable: boolean): void => {
      socket.destroy();
      resolve(reachable);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** What the dev server runs with; shared by the detached and the foreground forms. */
export interface DevServerOptions {
  /** Frontend gRPC address to bind, `host:port`. */
  address: string;
  /** Absolute path of the `temporal` binary (see `findTemporalCli`). */
  cliPath: string;
  /** SQLite file that keeps workflow state across server restarts. */
  dbFile: string;
  /** Namespace to create at launch; `default` always exists. */
  namespace?: string;
  /** Web UI port; defaults to the gRPC port + 1000 (no UI when that is not a valid port). */
  uiPort?: number;
}

/** Options of {@link ensureDevServer}. */
export interface EnsureDevServerOptions extends DevServerOptions {
  /** File that receives the server's stdout and stderr (appended). */
  logFile: string;
  /** How long to wait for the frontend to answer; 30 s by default. */
  startTimeoutMs?: number;
}

/**
 * The arguments of `temporal` for `server start-dev` with these options, including
 * Unroll's dynamic config (see ./dynamic-config.ts).
 */
export function devServerArgs(options: DevServerOptions): string[] {
  const { host, port } = parseTemporalAddress(options.address);
  const uiPort = options.uiPort ?? port + 1000;
  const ui = uiPort <= 65_535 ? ['--ui-port', String(uiPort)] : ['--headless'];
  return [
    'server', 'start-dev',
    '--ip', host,
    '--port', String(port),
    ...ui,
    '--db-filename', options.dbFile,
    ...sqlitePragmaArgs(),
    '--log-level', 'warn',
    '--namespace', options.namespace ?? 'default',
    ...dynamicConfigArgs(),
    // Registering is idempotent, so a restart on an existing database repeats it harmlessly.
    ...searchAttributeArgs(),
  ];
}

/**
 * The SQLite settings of the dev server's database file. SQLite's defaults (a rollback
 * journal, `synchronous=FULL`) make every transaction create, fsync and delete a journal
 * file besides the database's own fsync, and the server commits at least once per
 * workflow task and activity completion: measured, the engine floor (two empty
 * activities per step) took 51 ms/step on a file database with SQLite's defaults, 40 ms
 * with these pragmas and 32 ms in memory (medians of 3; a burst of 20 sessions: 31, 67
 * and 81 steps/s).
 * Write-ahead logging appends each commit to one log and fsyncs it once; with
 * `synchronous=FULL` kept, a committed transaction survives a power loss as before
 * (`npm run bench:dev-server`, bench/results/dev-server-limits.md).
 */
export const DEV_SERVER_SQLITE_PRAGMAS: readonly string[] = ['journal_mode=wal', 'synchronous=full'];

/** `--sqlite-pragma` arguments of `temporal server start-dev` for {@link DEV_SERVER_SQLITE_PRAGMAS}. */
export function sqlitePragmaArgs(): string[] {
  return DEV_SERVER_SQLITE_PRAGMAS.flatMap((pragma) => ['--sqlite-pragma', pragma]);
}

/** The Web UI address of the dev server at `address` (see {@link devServerArgs}), or undefined when it runs headless. */
export function devServerUiUrl(address: string, uiPort?: number): string | undefined {
  const { host, port } = parseTemporalAddress(address);
  const ui = uiPort ?? port + 1000;
  if (ui > 65_535) return undefined;
  return `http://${host.includes(':') ? `[${host}]` : host}:${ui}`;
}

/** Where {@link ensureDevServer} records the pid of the server it started: next to the db file. */
export function devServerPidFile(dbFile: string): string {
  return path.join(path.dirname(dbFile), 'server.pid');
}

/**
 * Makes sure a Temporal server answers at `options.address`. If the port is open
 * already, nothing is started (`{started: false}`). Otherwise starts the dev server
 * detached (it survives this process; output goes to `logFile`), waits until the
 * frontend answers for the namespace, and writes its pid to {@link devServerPidFile}.
 * If another process wins a concurrent start, that server is used instead.
 *
 * @throws DevServerStartError with the end of the log when the server cannot be
 * spawned, exits, or does not answer within `startTimeoutMs`; a server that is still
 * starting at the timeout is killed.
 */
export async function ensureDevServer(options: EnsureDevServerOptions): Promise<{ started: boolean; pid?: number }> {
  if (await isServerReachable(options.address)) return { started: false };
  const namespace = options.namespace ?? 'default';
  await mkdir(path.dirname(path.resolve(options.dbFile)), { recursive: true });
  await mkdir(path.dirname(path.resolve(options.logFile)), { recursive: true });

  // Only this run's output belongs in an error: the log is appended to across starts.
  const logStart = await fileSize(options.logFile);
  const child = spawnDetached(options.cliPath, devServerArgs(options), options.logFile);
  const exit = watchExit(child);
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const problem = await waitUntilReady(options.address, namespace, timeoutMs, () => exit.state);
  if (typeof problem === 'object' && child.pid !== undefined) {
    await writeFile(devServerPidFile(options.dbFile), `${child.pid}\n`);
    await writeServerRecord({ address: options.address, clusterId: problem.clusterId, dbFile: path.resolve(options.dbFile), pid: child.pid });
    return { started: true, pid: child.pid };
  }
  if (exit.state && typeof (await frontendProblem(options.address, namespace)) === 'object') return { started: false };
  if (!exit.state && child.pid !== undefined) signalQuietly(child.pid, 'SIGKILL');
  throw new DevServerStartError({
    address: options.address,
    detail: typeof problem === 'string' ? problem : 'the process has no pid',
    logFile: options.logFile,
    logTail: await readLogTail(options.logFile, logStart),
    cause: exit.state?.error,
  });
}

function spawnDetached(cliPath: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn(cliPath, args, { detached: true, stdio: ['ignore', fd, fd], windowsHide: true });
  } finally {
    // The child has its own copy of the descriptor.
    closeSync(fd);
  }
}

interface ExitState {
  readonly code?: number | null;
  readonly signal?: NodeJS.Signals | null;
  readonly error?: Error;
}

/** Records how the child ended without keeping this process alive for it. */
function watchExit(child: ChildProcess): { readonly state: ExitState | undefined } {
  const watch: { state: ExitState | undefined } = { state: undefined };
  child.once('exit', (code, signal) => (watch.state = { code, signal }));
  child.once('error', (error) => (watch.state = { error }));
  child.unref();
  return watch;
}

function describeExit(state: ExitState): string {
  if (state.error) return `could not be spawned: ${state.error.message}`;
  return state.signal ? `was killed by ${state.signal}` : `exited with code ${state.code}`;
}

/** Polls until the frontend answers; returns why it did not (its cluster id when it did). */
async function waitUntilReady(
  address: string,
  namespace: string,
  timeoutMs: number,
  exitState: () => ExitState | undefined,
): Promise<string | { clusterId: string }> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = `nothing listens at ${address} yet`;
  while (Date.now() < deadline) {
    const exited = exitState();
    if (exited) return `the server process ${describeExit(exited)}`;
    if (await isServerReachable(address, RPC_TIMEOUT_MS)) {
      const problem = await frontendProblem(address, namespace);
      if (typeof problem === 'object') return problem;
      lastProblem = problem;
    }
    await delay(POLL_INTERVAL_MS);
  }
  return `no answer within ${timeoutMs} ms (last problem: ${lastProblem})`;
}

/** Asks the frontend to describe the namespace; returns the error message, or its cluster id on success. */
async function frontendProblem(address: string, namespace: string): Promise<string | { clusterId: string }> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: RPC_TIMEOUT_MS });
    const service = connection.workflowService;
    await connection.withDeadline(Date.now() + RPC_TIMEOUT_MS, () => service.describeNamespace({ namespace }));
    const info = await connection.withDeadline(Date.now() + RPC_TIMEOUT_MS, () => service.getClusterInfo({}));
    return { clusterId: info.clusterId ?? '' };
  } catch (err) {
    return `frontend did not answer describeNamespace(${namespace}): ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await connection?.close();
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** The last lines written to `logFile` after byte offset `from`, indented; '' when there are none. */
async function readLogTail(logFile: string, from: number): Promise<string> {
  try {
    const handle = await open(logFile, 'r');
    try {
      const { size } = await handle.stat();
      const start = Math.max(from, size - LOG_TAIL_BYTES);
      const buffer = Buffer.alloc(Math.max(0, size - start));
      await handle.read(buffer, 0, buffer.length, start);
      const text = buffer.toString('utf8').trimEnd();
      if (text.trim() === '') return '';
      return text.split(/\r?\n/).slice(-LOG_TAIL_LINES).map((line) => `  ${line}`).join('\n');
    } finally {
      await handle.close();
    }
  } catch (err) {
    return `  (cannot read the log: ${err instanceof Error ? err.message : String(err)})`;
  }
}

/**
 * Runs the dev server attached to this terminal (`unroll server`): inherited stdio,
 * SIGINT and SIGTERM forwarded to it. Resolves with its exit code (128 + signal number
 * when it was killed by a signal).
 *
 * @throws DevServerStartError when the binary cannot be spawned.
 */
export async function runDevServerForeground(options: DevServerOptions): Promise<number> {
  await mkdir(path.dirname(path.resolve(options.dbFile)), { recursive: true });
  const child = spawn(options.cliPath, devServerArgs(options), { stdio: 'inherit' });
  // Not watchExit: that unrefs the child, and this process must live as long as it does.
  const exit: { state: ExitState | undefined } = { state: undefined };
  child.once('exit', (code, signal) => (exit.state = { code, signal }));
  child.once('error', (error) => (exit.state = { error }));
  // Once it answers, record it as this home's server, so later commands reuse it (see ./server-record.ts).
  const recorded = waitUntilReady(options.address, options.namespace ?? 'default', DEFAULT_START_TIMEOUT_MS, () => exit.state).then(async (ready) => {
    if (typeof ready !== 'object' || child.pid === undefined) return;
    await writeFile(devServerPidFile(options.dbFile), `${child.pid}\n`);
    await writeServerRecord({ address: options.address, clusterId: ready.clusterId, dbFile: path.resolve(options.dbFile), pid: child.pid });
  }).catch(() => undefined);
  const forward = (signal: NodeJS.Signals) => (): void => void child.kill(signal);
  const onInterrupt = forward('SIGINT');
  const onTerminate = forward('SIGTERM');
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onTerminate);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', (error) =>
        reject(new DevServerStartError({ address: options.address, detail: `cannot run ${options.cliPath}: ${error.message}`, cause: error })),
      );
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
    });
  } finally {
    await recorded;
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onTerminate);
  }
}

/**
 * Stops the server whose pid is in `pidFile` (written by {@link ensureDevServer}):
 * SIGTERM, then SIGKILL if it is still alive after `graceMs`. Removes the pid file.
 * Resolves true if a running process was stopped, false if there was none.
 */
export async function stopDevServer(pidFile: string, graceMs = 5_000): Promise<boolean> {
  const pid = await readPid(pidFile);
  const running = pid !== undefined && isAlive(pid);
  if (running) {
    signalQuietly(pid, 'SIGTERM');
    if (!(await waitForExit(pid, graceMs))) {
      signalQuietly(pid, 'SIGKILL');
      await waitForExit(pid, 2_000);
    }
  }
  await rm(pidFile, { force: true });
  return running;
}

async function readPid(pidFile: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(pidFile, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(50);
  }
  return true;
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}
